#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: route53_delegation_info
short_description: Tell whether DNS really sends a domain to a Route 53 public hosted zone
version_added: 0.3.0
description:
  - Finds the public hosted zone (by name or ID) and its name servers (the zone's
    DelegationSet), asks a DNS resolver which name servers answer for the zone (its C(NS)
    records) and compares them. For O(domain), it then asks one of the zone's own name servers
    (O(name_server)), not the resolver, which zone holds that name - the owner of the C(SOA) it
    answers, or of the C(NS) records of a referral to a delegated subdomain.
  - The domain is never asked of the resolver. It usually does not exist yet when this runs
    (before a first deploy), and a resolver caches that NXDOMAIN for the zone's negative TTL
    (RFC 2308; with Route 53's default SOA, 900 seconds), so clients using that resolver would
    not find the record a deploy creates right after.
  - RV(authoritative) is true when the resolver answers exactly the zone's name servers and
    places O(domain) in that zone. Otherwise RV(reason) says why - no public zone of that name,
    a domain outside the zone, a name the resolver does not know (not delegated), other name
    servers (the registrar or parent zone delegates to another zone, often a deleted and
    recreated one), or a subdomain delegated elsewhere.
  - Records created in a zone DNS does not delegate to are never answered, so a failover record
    there would route nothing.
  - Why a module of our own - M(amazon.aws.route53_info) and M(amazon.aws.route53_zone) return
    the delegation set but ask no DNS; M(community.dns.nameserver_info) asks DNS but needs
    dnspython (this project ships dnslib) and knows nothing of the hosted zone to compare with.
  - It only reads, so it runs in check mode too.
options:
  zone:
    description:
      - Name of the public hosted zone (for example C(example.com)). When several public zones
        have that name, the one DNS answers for is reported.
      - Exactly one of O(zone) and O(hosted_zone_id).
    type: str
  hosted_zone_id:
    description: ID of the hosted zone (C(Z123...) or C(/hostedzone/Z123...)).
    type: str
  domain:
    description:
      - A name that must be in the zone (for example the API's custom domain). It need not
        exist yet.
    type: str
  resolver:
    description:
      - The DNS server to ask, as C(address) or C(address:port) (C([v6 address]:port) for
        IPv6), for example C(8.8.8.8) for public DNS, or a local cloud's DNS server.
      - Default - the first C(nameserver) of C(/etc/resolv.conf) on the host the module runs on.
    type: str
  name_server:
    description:
      - The zone's authoritative name server to ask about O(domain), as C(address) or
        C(address:port) (a local cloud's DNS server, for example).
      - Default - the first of the name servers the resolver answered for the zone, its
        address looked up through O(resolver), port 53.
    type: str
    version_added: 0.5.0
  dns_timeout:
    description: Seconds to wait for each DNS answer.
    type: float
    default: 3.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
requirements:
  - dnslib
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check that public DNS sends api.example.com to the hosted zone
  failover.aws.route53_delegation_info:
    zone: example.com
    domain: api.example.com
    resolver: 8.8.8.8
  register: delegation

- name: Stop when the zone is not authoritative
  ansible.builtin.assert:
    that: delegation.authoritative
    fail_msg: "{{ delegation.reason }}"
"""

RETURN = r"""
authoritative:
  description: Whether the resolver answers the zone's name servers and places O(domain) in the zone.
  type: bool
  returned: always
reason:
  description: Why RV(authoritative) is false, in one sentence (empty when it is true).
  type: str
  returned: always
  sample: "8.8.8.8 answers NXDOMAIN for example.com NS: the domain is not delegated to any name server"
exists:
  description: Whether a public hosted zone of that name (or ID) exists.
  type: bool
  returned: always
hosted_zone_id:
  description: ID (without C(/hostedzone/)) of the public zone compared with DNS (empty when none exists).
  type: str
  returned: always
zone_name:
  description: Name of the zone, lower case, without the final dot.
  type: str
  returned: always
name_servers:
  description: The name servers of RV(hosted_zone_id)'s delegation set, lower case, sorted.
  type: list
  elements: str
  returned: always
hosted_zones:
  description: Every hosted zone with that name, public or private.
  type: list
  elements: dict
  returned: always
  contains:
    id:
      description: Zone ID without C(/hostedzone/).
      type: str
    private:
      description: Whether it is a private zone.
      type: bool
    name_servers:
      description: Its delegation set's name servers (none for a private zone).
      type: list
      elements: str
resolver:
  description: The DNS server asked, as C(address:port).
  type: str
  returned: always
  sample: "8.8.8.8:53"
answered_name_servers:
  description: The C(NS) records the resolver answered for the zone, lower case, sorted.
  type: list
  elements: str
  returned: always
rcode:
  description: DNS response code of the C(NS) question (C(NOERROR), C(NXDOMAIN), C(SERVFAIL), ...).
  type: str
  returned: always
domain_in_zone:
  description: Whether O(domain) is the zone's name or a name under it (true without O(domain)).
  type: bool
  returned: always
domain_zone:
  description:
    - The zone the zone's name server says holds O(domain) (the owner of the C(SOA) it returns, or
      of the C(NS) records of its referral); empty without O(domain).
  type: str
  returned: always
name_server:
  description: The name server asked about O(domain), as C(address:port); empty when none was asked.
  type: str
  returned: always
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

try:
    from dnslib import QTYPE, RCODE, DNSRecord
except ImportError:
    DNSRecord = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

RESOLV_CONF = "/etc/resolv.conf"


def normalize(name):
    return (name or "").strip().rstrip(".").lower()


def parse_resolver(text):
    """("address", port) from "address", "address:port", "[v6]:port" or a bare IPv6 address."""
    text = text.strip()
    if text.startswith("["):
        address, _bracket, rest = text[1:].partition("]")
        return address, int(rest[1:]) if rest.startswith(":") else 53
    if text.count(":") == 1:
        address, port = text.split(":")
        return address, int(port)
    return text, 53


def system_resolver():
    try:
        with open(RESOLV_CONF, encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    return fields[1]
    except OSError:
        pass
    return None


def ask(address, port, name, qtype, timeout, recursive=True):
    """One question; over TCP again when the UDP answer is truncated."""
    question = DNSRecord.question(name, qtype)
    question.header.rd = 1 if recursive else 0
    reply = DNSRecord.parse(question.send(address, port, timeout=timeout))
    if reply.header.tc:
        reply = DNSRecord.parse(question.send(address, port, tcp=True, timeout=timeout))
    return reply


def find_zones(module, client):
    """Every hosted zone of the given name or ID, with its delegation set's name servers."""
    try:
        if module.params["hosted_zone_id"]:
            ids = [module.params["hosted_zone_id"].rsplit("/", 1)[-1]]
        else:
            wanted = normalize(module.params["zone"])
            ids = []
            kwargs = {"DNSName": wanted}
            while True:
                page = client.list_hosted_zones_by_name(aws_retry=True, **kwargs)
                zones = page.get("HostedZones", [])
                ids += [z["Id"].rsplit("/", 1)[-1] for z in zones if normalize(z["Name"]) == wanted]
                if not page.get("IsTruncated") or any(normalize(z["Name"]) != wanted for z in zones):
                    break
                kwargs = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"]}
        found = []
        for zone_id in ids:
            answer = client.get_hosted_zone(Id=zone_id, aws_retry=True)
            zone = answer["HostedZone"]
            found.append({
                "id": zone_id,
                "name": normalize(zone["Name"]),
                "private": bool(zone.get("Config", {}).get("PrivateZone")),
                "name_servers": sorted(normalize(ns) for ns in
                                       answer.get("DelegationSet", {}).get("NameServers", [])),
            })
        return found
    except is_boto3_error_code("NoSuchHostedZone"):
        return []
    except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not read the hosted zone")


def in_zone(name, zone):
    return name == zone or name.endswith("." + zone)


def soa_owner(reply, domain):
    """The most specific zone apex among the SOA records of an answer that hold ``domain``,
    or, in a referral (no SOA), among the owners of its NS records."""
    records = list(reply.rr) + list(reply.auth)
    for rtype in (QTYPE.SOA, QTYPE.NS):
        owners = [normalize(str(rr.rname)) for rr in records if rr.rtype == rtype]
        holding = [owner for owner in owners if in_zone(domain, owner)]
        if holding:
            return max(holding, key=len)
    return ""


def endpoint(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def name_server_address(module, resolver, names, timeout):
    """(address, port) of O(name_server), or of the first of ``names`` the resolver knows."""
    if module.params["name_server"]:
        return parse_resolver(module.params["name_server"])
    for name in names:
        reply = ask(resolver[0], resolver[1], name, "A", timeout)
        addresses = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
        if addresses:
            return addresses[0], 53
    return None


def place_domain(module, result, resolver, name_servers, domain, zone_name, timeout):
    """Ask the zone's own name server (never the resolver) which zone holds ``domain``."""
    try:
        server = name_server_address(module, resolver, name_servers, timeout)
        if server is None:
            result["reason"] = (f"{endpoint(*resolver)} knows no address of the zone's name "
                                f"servers {', '.join(name_servers)}: set name_server")
            return
        result["name_server"] = endpoint(*server)
        reply = ask(server[0], server[1], domain, "SOA", timeout, recursive=False)
    except OSError as e:
        module.fail_json(msg=f"The name server {result['name_server'] or 'of the zone'} did "
                             f"not answer for {domain}: {e}", **result)
    result["domain_zone"] = soa_owner(reply, domain)
    if result["domain_zone"] != zone_name:
        result["reason"] = (f"{result['name_server']} places {domain} in the zone "
                            f"{result['domain_zone'] or '(none: no SOA answered)'}, "
                            f"not in {zone_name}")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            zone=dict(type="str"),
            hosted_zone_id=dict(type="str"),
            domain=dict(type="str"),
            resolver=dict(type="str"),
            name_server=dict(type="str"),
            dns_timeout=dict(type="float", default=3.0),
        ),
        mutually_exclusive=[["zone", "hosted_zone_id"]],
        required_one_of=[["zone", "hosted_zone_id"]],
        supports_check_mode=True,
    )
    if DNSRecord is None:
        module.fail_json(msg="route53_delegation_info needs the dnslib Python package on the "
                             "host it runs on (pip install dnslib)")
    resolver_text = module.params["resolver"] or system_resolver()
    if not resolver_text:
        module.fail_json(msg=f"No resolver given and no nameserver in {RESOLV_CONF}: set resolver")
    try:
        address, port = parse_resolver(resolver_text)
    except ValueError:
        module.fail_json(msg=f"resolver {resolver_text!r} is not an address or address:port")
    resolver = endpoint(address, port)

    client = module.client("route53", retry_decorator=AWSRetry.jittered_backoff())
    zones = find_zones(module, client)
    public = [z for z in zones if not z["private"]]
    zone_name = normalize(module.params["zone"]) if module.params["zone"] else (
        zones[0]["name"] if zones else "")
    domain = normalize(module.params["domain"]) if module.params["domain"] else ""

    result = dict(changed=False, authoritative=False, reason="", exists=bool(public),
                  hosted_zone_id="", zone_name=zone_name, name_servers=[], hosted_zones=zones,
                  resolver=resolver, answered_name_servers=[], rcode="",
                  domain_in_zone=not domain or in_zone(domain, zone_name), domain_zone="",
                  name_server="")
    if not public:
        kind = "only a private hosted zone" if zones else "no hosted zone"
        target = module.params["hosted_zone_id"] or zone_name
        result["reason"] = f"Route 53 has {kind} {target}; a public hosted zone is needed"
        module.exit_json(**result)
    result.update(hosted_zone_id=public[0]["id"], name_servers=public[0]["name_servers"])
    if not result["domain_in_zone"]:
        result["reason"] = f"{domain} is not within the zone {zone_name}"
        module.exit_json(**result)

    timeout = module.params["dns_timeout"]
    try:
        reply = ask(address, port, zone_name, "NS", timeout)
    except OSError as e:  # timeouts included (socket.timeout is an OSError)
        module.fail_json(msg=f"The resolver {resolver} did not answer for {zone_name}: {e}",
                         **result)
    rcode = RCODE.get(reply.header.rcode)
    answered = sorted({normalize(str(rr.rdata)) for rr in reply.rr
                       if rr.rtype == QTYPE.NS and normalize(str(rr.rname)) == zone_name})
    result.update(rcode=str(rcode), answered_name_servers=answered)
    matching = [z for z in public if z["name_servers"] == answered]
    if matching:
        result.update(hosted_zone_id=matching[0]["id"], name_servers=matching[0]["name_servers"])
    if not answered:
        result["reason"] = (f"{resolver} answers {rcode} and no name servers for {zone_name} NS: "
                            "the domain is not delegated to the hosted zone")
    elif not matching:
        result["reason"] = (f"{resolver} answers name servers {', '.join(answered)} for "
                            f"{zone_name}, but the hosted zone {public[0]['id']} has "
                            f"{', '.join(public[0]['name_servers'])}: the registrar or parent "
                            "zone delegates to other name servers")
    elif domain:
        place_domain(module, result, (address, port), answered, domain, zone_name, timeout)
    result["authoritative"] = not result["reason"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
