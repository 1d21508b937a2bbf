"""drillkit: the failover drill's traffic generator, reconciler and report.

A drill breaks the primary region and watches Route 53 move the custom domain to the secondary.
What a user cares about is what clients saw and whether their events survived, so this package
measures exactly that, outside the system under test:

- ``traffic``: steady POST traffic through the public URL, one JSON line per request, plus
  optional Route 53 health-check samples (``traffic.py``, daemonized by ``daemon.py``);
- ``reconcile``: every accepted event must be stored in every region's table replica
  (``reconcile.py``);
- ``timeline``: the drill's steps, marks and checks as the playbook reports them, on drillkit's
  clock (``timeline.py``), and ``budget``: its detection timeout and Route 53 cadences
  (``budget.py``);
- ``report``: failover/failback figures, latency per phase and a verdict from the traffic log,
  the reconciliation and the run's timeline (``report.py``, ``markdown.py``, ``chart.py``).
"""

__version__ = "0.1.0"
