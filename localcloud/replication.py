"""DynamoDB global tables: replica tables in several regions that converge on the same items.

moto 5.2.5 has no global tables: ``ReplicaUpdates`` is ignored, ``DescribeTable`` has no
``Replicas`` and ``CreateGlobalTable`` fails with a 500. This module adds them on top of moto's
own tables, the way AWS builds them on top of regional tables:

- A registry says which regions hold a replica of which table (per account). It lives here, not
  in moto, holds names only (never moto objects) and is cleared by ``Replicator.reset``.
- Every committed write to a replica becomes a *change*: a copy of the new item image (or a
  deletion) and a write stamp. moto's writes all end in ``Table.put_item``, ``Table.delete_item``
  or ``DynamoDBBackend.update_item`` (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
  TransactWriteItems and PartiQL alike), so those three are the hooks. A transaction's writes are
  held back until it commits; a failed condition raises before anything is recorded.
- A change waits ``replication_lag_seconds`` in a queue; the ``Replicator`` thread then applies it
  to every other replica under ``runtime.LOCK``, below the hooks (so it is never replicated
  again: no echo) but through the destination's stream, as AWS shows replicated writes there.
- Last writer wins: for each item in each region the stamp of its latest write, local or
  replicated, is kept beside the table. A replicated change older than that stamp is dropped, so
  replicas converge on the latest write whatever order changes arrive in.

Known deviations from AWS:
- Replicas are created and deleted synchronously: ``UpdateTable`` answers with the new replica
  already ``ACTIVE`` (AWS: ``CREATING``, table ``UPDATING`` for minutes).
- Items copied into a new replica (the backfill) do not appear in that replica's stream.
- Per-replica settings (``ReplicaUpdates`` ``Update``, throughput overrides, table class, KMS key)
  are accepted but not modelled; a new replica gets the source table's settings, no tags.
- Where AWS's exact error text is not documented, the messages below are ours (same codes).
"""

from __future__ import annotations

import copy
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    MockValidationException,
    ResourceInUseException,
    ResourceNotFoundException,
    TableNotFoundException,
)
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from . import runtime
from .config import Config

log = logging.getLogger("localcloud.replication")

CURRENT_VERSION = "2019.11.21"
LEGACY_VERSION = "2017.11.29"
# The write stamp of an item nobody wrote since it became global: every real write is newer.
NO_STAMP: tuple[int, str] = (0, "")

ItemKey = tuple[DynamoType, DynamoType | None]
Stamp = tuple[int, str]

# moto's methods as they were before install(); replicated writes go through these.
_original: dict[str, Any] = {}
_installed = False


# -- State ---------------------------------------------------------------------------------


@dataclass
class GlobalTable:
    """One global table: its name in one account and the regions that hold a replica."""

    account_id: str
    name: str
    version: str
    regions: list[str]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb::{self.account_id}:global-table/{self.name}"


@dataclass
class Change:
    """A committed write to one replica, waiting to reach the others."""

    account_id: str
    table_name: str
    source_region: str
    hash_key: DynamoType
    range_key: DynamoType | None
    image: Item | None  # None: the item was deleted
    stamp: Stamp = NO_STAMP

    @property
    def key(self) -> ItemKey:
        return (self.hash_key, self.range_key)


@dataclass
class Delivery:
    """A change on its way to one destination region."""

    change: Change
    region: str


class _State:
    """Everything this module knows; guarded by ``runtime.LOCK``."""

    def __init__(self) -> None:
        self.lag_seconds = Config().replication_lag_seconds
        self.wakeup = threading.Event()
        self.clear()

    def clear(self) -> None:
        self.tables: dict[tuple[str, str], GlobalTable] = {}
        # (account, region, table, item key) -> stamp of the item's latest write there
        self.stamps: dict[tuple[str, str, str, ItemKey], Stamp] = {}
        self.queue: list[tuple[float, int, Delivery]] = []  # heap by due time
        self.sequence = itertools.count()
        self.last_ns = 0
        self.replicated = 0
        self.superseded = 0

    def replica_of(self, account_id: str, name: str, region: str) -> GlobalTable | None:
        table = self.tables.get((account_id, name))
        return table if table is not None and region in table.regions else None

    def next_stamp(self, region: str) -> Stamp:
        """Wall-clock nanoseconds, strictly increasing; the region breaks exact ties."""
        now = max(time.time_ns(), self.last_ns + 1)
        self.last_ns = now
        return (now, region)

    def push(self, delivery: Delivery, due: float) -> None:
        heapq.heappush(self.queue, (due, next(self.sequence), delivery))

    def forget_region(self, account_id: str, name: str, region: str) -> None:
        """Drop the write stamps and the pending deliveries of one replica."""
        for key in [k for k in self.stamps if k[:3] == (account_id, region, name)]:
            del self.stamps[key]
        kept = [
            entry for entry in self.queue
            if not (entry[2].region == region and entry[2].change.account_id == account_id
                    and entry[2].change.table_name == name)
        ]
        if len(kept) != len(self.queue):
            self.queue = kept
            heapq.heapify(self.queue)


_state = _State()


def _backend(account_id: str, region: str) -> DynamoDBBackend:
    return dynamodb_backends[account_id][region]


def _check_region(account_id: str, region: str) -> None:
    if region not in dynamodb_backends[account_id]:
        raise MockValidationException(f"Region {region!r} is not a valid AWS region")


def _unique(regions: list[str]) -> list[str]:
    return list(dict.fromkeys(regions))


# -- Recording writes ------------------------------------------------------------------------


class _Recorder(threading.local):
    """Changes of the write in progress on this thread, when it must commit as a whole."""

    def __init__(self) -> None:
        self.buffer: dict[tuple[str, str, str, ItemKey], Change] | None = None


_recorder = _Recorder()


@contextmanager
def _write_scope() -> Iterator[None]:
    """Hold the changes of one operation (a transaction, an update) until it succeeds.

    The outermost scope commits them; an exception discards them, as moto rolls the tables
    back. Only the last change per item counts (an update first stores a key-only item).
    """
    if _recorder.buffer is not None:
        yield
        return
    _recorder.buffer = {}
    try:
        yield
    except BaseException:
        _recorder.buffer = None
        raise
    changes = list(_recorder.buffer.values())
    _recorder.buffer = None
    _commit(changes)


def _record(table: Table, hash_key: DynamoType, range_key: DynamoType | None,
            image: Item | None) -> None:
    """Note a successful local write to ``table``; never fails the write itself."""
    try:
        with runtime.LOCK:
            if _state.replica_of(table.account_id, table.name, table.region_name) is None:
                return
            change = Change(
                account_id=table.account_id,
                table_name=table.name,
                source_region=table.region_name,
                hash_key=copy.deepcopy(hash_key),
                range_key=copy.deepcopy(range_key),
                image=copy.deepcopy(image),  # the item object may still change in place
            )
            if _recorder.buffer is None:
                _commit([change])
                return
            ident = (change.account_id, change.source_region, change.table_name, change.key)
            _recorder.buffer.pop(ident, None)
            _recorder.buffer[ident] = change
    except Exception:
        log.exception("recording a write to %s for replication failed", table.name)


def _commit(changes: list[Change]) -> None:
    """Stamp committed changes and queue them for every other replica."""
    try:
        with runtime.LOCK:
            due = time.monotonic() + _state.lag_seconds
            queued = False
            for change in changes:
                table = _state.replica_of(change.account_id, change.table_name,
                                          change.source_region)
                if table is None:
                    continue
                change.stamp = _state.next_stamp(change.source_region)
                _state.stamps[(change.account_id, change.source_region, change.table_name,
                               change.key)] = change.stamp
                for region in table.regions:
                    if region != change.source_region:
                        _state.push(Delivery(change, region), due)
                        queued = True
            if queued:
                _state.wakeup.set()
    except Exception:
        log.exception("queueing changes for replication failed")


# -- Applying replicated writes --------------------------------------------------------------


def _insert(table: Table, item: Item) -> tuple[Item | None, Item]:
    """Store a copy of an item image where moto's ``Table.put_item`` would, without its
    validation and hooks; return the item it replaced and the stored copy."""
    current = table.get_item(item.hash_key, item.range_key)
    new = copy.deepcopy(item)
    if new.range_key is not None:
        table.items[new.hash_key][new.range_key] = new
    else:
        table.items[new.hash_key] = new
    return current, new


def _store(table: Table, item: Item) -> None:
    """A replicated write: the item changes and the destination's stream shows it."""
    current, new = _insert(table, item)
    if table.stream_shard is not None:
        table.stream_shard.add(current, new)


def _apply(delivery: Delivery) -> None:
    """Apply one change to one destination replica unless a newer write is already there."""
    change, region = delivery.change, delivery.region
    if _state.replica_of(change.account_id, change.table_name, region) is None:
        return
    table = _backend(change.account_id, region).tables.get(change.table_name)
    if table is None:
        return
    stamp_key = (change.account_id, region, change.table_name, change.key)
    if _state.stamps.get(stamp_key, NO_STAMP) >= change.stamp:
        _state.superseded += 1
        return
    _state.stamps[stamp_key] = change.stamp
    if change.image is not None:
        _store(table, change.image)
    else:
        _original["table_delete_item"](table, change.hash_key, change.range_key)
    _state.replicated += 1


def deliver_due() -> float | None:
    """Apply every change whose lag has passed; return seconds until the next one is due.

    Returns None when nothing is pending. Takes ``runtime.LOCK`` per change, so requests
    interleave with a long backlog.
    """
    while True:
        with runtime.LOCK:
            if not _state.queue:
                return None
            due, _, delivery = _state.queue[0]
            wait = due - time.monotonic()
            if wait > 0:
                return wait
            heapq.heappop(_state.queue)
            try:
                _apply(delivery)
            except Exception:
                log.exception("replicating %s to %s failed", delivery.change.table_name,
                              delivery.region)


def pending() -> int:
    """Changes not yet applied in some replica (0: every replica caught up)."""
    with runtime.LOCK:
        return len(_state.queue)


def wait_until_caught_up(timeout: float) -> bool:
    """Poll until every replica caught up; False if ``timeout`` seconds passed first."""
    deadline = time.monotonic() + timeout
    while pending():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


# -- Replica management ----------------------------------------------------------------------


def _stream_is_new_and_old(table: Table) -> bool:
    spec = table.stream_specification or {}
    return bool(spec.get("StreamEnabled")) and spec.get("StreamViewType") == "NEW_AND_OLD_IMAGES"


def _write_autoscaled(table: Table) -> bool:
    """Whether Application Auto Scaling manages the table's write capacity in its region."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    backend = applicationautoscaling_backends[table.account_id][table.region_name]
    targets = backend.describe_scalable_targets(
        "dynamodb", [f"table/{table.name}"], "dynamodb:table:WriteCapacityUnits"
    )
    return bool(targets)


def _table_kwargs(table: Table) -> dict[str, Any]:
    """``create_table`` keyword arguments that give a replica the settings of ``table``."""
    provisioned = table.billing_mode != "PAY_PER_REQUEST"

    def capacity(throughput: dict[str, Any]) -> dict[str, Any]:
        return {"ReadCapacityUnits": throughput["ReadCapacityUnits"],
                "WriteCapacityUnits": throughput["WriteCapacityUnits"]}

    global_indexes = []
    for index in table.global_indexes:
        spec = {"IndexName": index.name, "KeySchema": copy.deepcopy(index.schema),
                "Projection": copy.deepcopy(index.projection)}
        if provisioned:
            spec["ProvisionedThroughput"] = capacity(index.throughput)
        global_indexes.append(spec)
    sse = table.sse_specification
    return {
        "schema": copy.deepcopy(table.schema),
        "attr": copy.deepcopy(table.attr),
        "throughput": capacity(table.throughput) if provisioned else None,
        "global_indexes": global_indexes,
        "indexes": [
            {"IndexName": i.name, "KeySchema": copy.deepcopy(i.schema),
             "Projection": copy.deepcopy(i.projection)}
            for i in table.indexes
        ],
        "streams": copy.deepcopy(table.stream_specification),
        "billing_mode": table.billing_mode,
        # Each region encrypts with its own key: leave it to the new region's default.
        "sse_specification": {k: v for k, v in sse.items() if k != "KMSMasterKeyId"}
        if sse else None,
        "tags": [],
        "deletion_protection_enabled": False,
        "warm_throughput": None,
    }


_CREATE_TABLE_DEFAULTS: dict[str, Any] = {
    "throughput": None,
    "global_indexes": [],
    "indexes": [],
    "streams": None,
    "billing_mode": "PROVISIONED",
    "sse_specification": None,
    "tags": [],
    "deletion_protection_enabled": False,
    "warm_throughput": None,
}


def _create_table(account_id: str, region: str, name: str, table_kwargs: dict[str, Any]) -> Table:
    kwargs = {**_CREATE_TABLE_DEFAULTS, **copy.deepcopy(table_kwargs)}
    return _backend(account_id, region).create_table(name=name, **kwargs)


def _join(table: GlobalTable, source_region: str, replica: Table) -> None:
    """Make ``replica`` a member: copy in the items of ``source_region``, then replicate."""
    account_id, name, region = table.account_id, table.name, replica.region_name
    source = _backend(account_id, source_region).get_table(name)
    for item in source.all_items():
        _insert(replica, item)
        key = (item.hash_key, item.range_key)
        _state.stamps[(account_id, region, name, key)] = _state.stamps.get(
            (account_id, source_region, name, key), NO_STAMP)
    # Changes still on their way to the source are not in the copy: send them here too.
    for due, _, delivery in list(_state.queue):
        change = delivery.change
        if (delivery.region == source_region and change.account_id == account_id
                and change.table_name == name):
            _state.push(Delivery(change, region), due)
    table.regions.append(region)


def _add_replica(table: GlobalTable, source_region: str, region: str,
                 table_kwargs: dict[str, Any]) -> None:
    """Create the replica in ``region`` and fill it with the items of ``source_region``."""
    _join(table, source_region,
          _create_table(table.account_id, region, table.name, table_kwargs))


def _forget_replica(account_id: str, name: str, region: str) -> None:
    """The replica in ``region`` is gone (its table was deleted or left the group)."""
    table = _state.replica_of(account_id, name, region)
    if table is None:
        return
    table.regions.remove(region)
    _state.forget_region(account_id, name, region)
    if not table.regions:
        del _state.tables[(account_id, name)]


def _register(account_id: str, name: str, version: str, regions: list[str]) -> GlobalTable:
    table = GlobalTable(account_id, name, version, list(regions))
    _state.tables[(account_id, name)] = table
    return table


# -- Public functions (the CloudFormation model AWS::DynamoDB::GlobalTable uses these) -----


def create_global_table(account_id: str, table_name: str, regions: list[str],
                        table_kwargs: dict) -> None:
    """Create ``table_name`` in every region of ``regions`` and link the tables as replicas.

    ``table_kwargs`` are the keyword arguments of moto's ``DynamoDBBackend.create_table`` other
    than ``name``: ``schema`` (KeySchema list), ``attr`` (AttributeDefinitions list),
    ``throughput`` (ProvisionedThroughput dict or None), ``global_indexes`` and ``indexes``
    (GSI/LSI specifications as in CreateTable), ``streams`` (StreamSpecification dict, e.g.
    ``{"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}``), ``billing_mode``
    ("PAY_PER_REQUEST" or "PROVISIONED"), ``sse_specification``, ``tags`` (list of
    ``{"Key", "Value"}``), ``deletion_protection_enabled`` and ``warm_throughput``. Missing
    optional keys get CreateTable's defaults. Every replica gets the same settings.

    Raises moto's ``ResourceInUseException`` when the table exists in one of the regions (nothing
    is created then) and a ``ValidationException`` when more than one region is asked for
    without a NEW_AND_OLD_IMAGES stream, as AWS requires for replication.
    """
    regions = _unique(regions)
    with runtime.LOCK:
        if not regions:
            raise MockValidationException("A global table needs at least one region")
        if (account_id, table_name) in _state.tables:
            raise ResourceInUseException(f"Table already exists: {table_name}")
        for region in regions:
            _check_region(account_id, region)
            if table_name in _backend(account_id, region).tables:
                raise ResourceInUseException(f"Table already exists: {table_name}")
        streams = table_kwargs.get("streams") or {}
        if len(regions) > 1 and streams.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            raise MockValidationException(
                "A global table with more than one replica needs a stream with "
                "StreamViewType NEW_AND_OLD_IMAGES")
        for region in regions:
            _create_table(account_id, region, table_name, table_kwargs)
        _register(account_id, table_name, CURRENT_VERSION, regions)


def update_replicas(account_id: str, table_name: str, regions: list[str],
                    table_kwargs: dict) -> None:
    """Make ``regions`` the replica regions of a global table.

    A new region gets a table created from ``table_kwargs`` (see ``create_global_table``) and
    is backfilled with the items of an existing replica; a region left out has its table
    deleted. Raises ``ResourceNotFoundException`` for a table that is not global.
    """
    regions = _unique(regions)
    with runtime.LOCK:
        table = _state.tables.get((account_id, table_name))
        if table is None:
            raise ResourceNotFoundException(table_name=table_name)
        if not regions:
            raise MockValidationException("A global table needs at least one region")
        added = [r for r in regions if r not in table.regions]
        removed = [r for r in table.regions if r not in regions]
        for region in added:
            _check_region(account_id, region)
            if table_name in _backend(account_id, region).tables:
                raise ResourceInUseException(f"Table already exists: {table_name}")
        kept = [r for r in table.regions if r in regions]
        source = (kept or table.regions)[0]
        for region in added:
            _add_replica(table, source, region, table_kwargs)
        for region in removed:
            _backend(account_id, region).delete_table(table_name)  # the hook forgets it


def delete_global_table(account_id: str, table_name: str) -> None:
    """Delete the table in every replica region and forget the global table."""
    with runtime.LOCK:
        table = _state.tables.get((account_id, table_name))
        if table is None:
            raise ResourceNotFoundException(table_name=table_name)
        for region in list(table.regions):
            if table_name in _backend(account_id, region).tables:
                _backend(account_id, region).delete_table(table_name)
            _forget_replica(account_id, table_name, region)


def replica_regions(account_id: str, table_name: str) -> list[str]:
    """The regions holding a replica of ``table_name``, in the order they joined ([]: none)."""
    with runtime.LOCK:
        table = _state.tables.get((account_id, table_name))
        return list(table.regions) if table is not None else []


# -- UpdateTable ReplicaUpdates, DescribeTable, DeleteTable ----------------------------------

LOCAL_REGION_MESSAGE = (
    "Cannot add, delete, or update the local region through ReplicaUpdates. "
    "Use CreateTable, DeleteTable, or UpdateTable as required."
)


def _validate_replica_updates(account_id: str, region: str, table: Table,
                              updates: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Check ``ReplicaUpdates`` against the table; return the (action, region) steps."""
    existing = _state.tables.get((account_id, table.name))
    if existing is not None and existing.version == LEGACY_VERSION:
        raise MockValidationException(
            f"Table {table.name} belongs to a global table of version {LEGACY_VERSION}; "
            "use UpdateGlobalTable")
    if existing is not None and region not in existing.regions:
        raise MockValidationException(
            f"Table {table.name} in {region} is not a replica of the global table "
            f"{table.name} (replicas: {', '.join(existing.regions)})")
    regions = list(existing.regions) if existing is not None else [region]
    steps: list[tuple[str, str]] = []
    for update in updates:
        actions = [a for a in ("Create", "Update", "Delete") if a in update]
        if len(actions) != 1:
            raise MockValidationException(
                "Each ReplicaUpdates entry needs exactly one of Create, Update or Delete")
        action = actions[0]
        target = update[action].get("RegionName", "")
        if target == region:
            raise MockValidationException(LOCAL_REGION_MESSAGE)
        _check_region(account_id, target)
        if action == "Create":
            if not _stream_is_new_and_old(table):
                raise MockValidationException(
                    "Replicas need the table's DynamoDB stream enabled with StreamViewType "
                    "NEW_AND_OLD_IMAGES")
            if table.billing_mode != "PAY_PER_REQUEST" and not _write_autoscaled(table):
                raise MockValidationException(
                    "Table write capacity should either be Pay-Per-Request or AutoScaled.")
            if target in regions or table.name in _backend(account_id, target).tables:
                raise MockValidationException(
                    f"Failed to create a the new replica of table with name: '{table.name}' "
                    "because one or more replicas already existed as tables.")
            regions.append(target)
        elif target not in regions:
            raise MockValidationException(
                f"Table {table.name} has no replica in region {target}")
        elif action == "Delete":
            regions.remove(target)
        steps.append((action, target))
    return steps


def _apply_replica_updates(account_id: str, region: str, table: Table,
                           steps: list[tuple[str, str]]) -> None:
    global_table = _state.tables.get((account_id, table.name))
    for action, target in steps:
        if action == "Create":
            if global_table is None:
                global_table = _register(account_id, table.name, CURRENT_VERSION, [region])
            _add_replica(global_table, region, target, _table_kwargs(table))
        elif action == "Delete":
            _backend(account_id, target).delete_table(table.name)  # the hook forgets it


def _handler_update_table(self: DynamoHandler) -> Any:
    """UpdateTable; ``ReplicaUpdates`` (global tables 2019.11.21) adds or removes replicas."""
    updates = self.body.get("ReplicaUpdates")
    if not updates:
        return _original["handler_update_table"](self)
    with runtime.LOCK:
        account_id, region = self.current_account, self.region
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        steps = _validate_replica_updates(account_id, region, table, updates)
        if set(self.body) - {"TableName", "ReplicaUpdates"}:
            _original["handler_update_table"](self)
        _apply_replica_updates(account_id, region, table, steps)
        return DynamoResult(self.dynamodb_backend.get_table(table.name).describe())


def _table_describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
    """DescribeTable (and every answer built from it) lists the other replicas."""
    result = _original["table_describe"](self, base_key)
    with runtime.LOCK:
        table = _state.replica_of(self.account_id, self.name, self.region_name)
        if table is None or table.version != CURRENT_VERSION:
            return result
        others = [r for r in table.regions if r != self.region_name]
    if others:
        description = result[base_key]
        description["GlobalTableVersion"] = CURRENT_VERSION
        description["Replicas"] = [
            {"RegionName": region, "ReplicaStatus": "ACTIVE"} for region in others
        ]
    return result


def _backend_delete_table(self: DynamoDBBackend, name: str) -> Table:
    """DeleteTable in one region removes that replica only; the others keep replicating."""
    table = _original["backend_delete_table"](self, name)
    with runtime.LOCK:
        _forget_replica(self.account_id, table.name, self.region_name)
    return table


# -- Write hooks -----------------------------------------------------------------------------


def _table_put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
    item = _original["table_put_item"](self, *args, **kwargs)
    _record(self, item.hash_key, item.range_key, item)
    return item


def _table_delete_item(self: Table, hash_key: DynamoType,
                       range_key: DynamoType | None) -> Item | None:
    item = _original["table_delete_item"](self, hash_key, range_key)
    if item is not None:
        _record(self, item.hash_key, item.range_key, None)
    return item


def _backend_update_item(self: DynamoDBBackend, table_name: str, *args: Any,
                         **kwargs: Any) -> Item:
    with _write_scope():
        item = _original["backend_update_item"](self, table_name, *args, **kwargs)
        _record(self.get_table(table_name), item.hash_key, item.range_key, item)
    return item


def _backend_transact_write_items(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> None:
    with _write_scope():
        return _original["backend_transact_write_items"](self, *args, **kwargs)


def _stream_record_init(self: StreamRecord, table: Table, *args: Any, **kwargs: Any) -> None:
    """moto writes every stream record as from us-east-1; AWS names the table's region."""
    _original["stream_record_init"](self, table, *args, **kwargs)
    self.record["awsRegion"] = table.region_name


# -- Global tables version 2017.11.29 (legacy API) -------------------------------------------


class _DynamoDBError(JsonRESTError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(ERROR_TYPE_PREFIX + code, message)


def _legacy_table(account_id: str, name: str) -> GlobalTable:
    table = _state.tables.get((account_id, name))
    if table is None or table.version != LEGACY_VERSION:
        raise _DynamoDBError("GlobalTableNotFoundException", "Global table not found")
    return table


def _legacy_description(table: GlobalTable) -> dict[str, Any]:
    return {
        "ReplicationGroup": [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in table.regions],
        "GlobalTableArn": table.arn,
        "CreationDateTime": table.created_at,
        "GlobalTableStatus": "ACTIVE",
        "GlobalTableName": table.name,
    }


def _legacy_member(account_id: str, region: str, name: str) -> Table:
    """A table that may join a legacy global table: existing, empty, NEW_AND_OLD_IMAGES."""
    _check_region(account_id, region)
    table = _backend(account_id, region).tables.get(name)
    if table is None:
        raise TableNotFoundException(name)
    if not _stream_is_new_and_old(table):
        raise MockValidationException(
            f"Table {name} in {region} needs a DynamoDB stream with StreamViewType "
            "NEW_AND_OLD_IMAGES")
    if len(table):
        raise MockValidationException(f"Table {name} in {region} is not empty")
    return table


def _handler_create_global_table(self: DynamoHandler) -> ActionResult:
    name = self.body["GlobalTableName"]
    regions = _unique([r["RegionName"] for r in self.body.get("ReplicationGroup", [])])
    with runtime.LOCK:
        account_id = self.current_account
        if (account_id, name) in _state.tables:
            raise _DynamoDBError("GlobalTableAlreadyExistsException",
                                 "Global table with this name already exists")
        members = [_legacy_member(account_id, region, name) for region in regions]
        if any(m.schema != members[0].schema for m in members):
            raise MockValidationException(
                "Every replica of a global table needs the same key schema")
        table = _register(account_id, name, LEGACY_VERSION, regions)
        return ActionResult({"GlobalTableDescription": _legacy_description(table)})


def _handler_describe_global_table(self: DynamoHandler) -> ActionResult:
    with runtime.LOCK:
        table = _legacy_table(self.current_account, self.body["GlobalTableName"])
        return ActionResult({"GlobalTableDescription": _legacy_description(table)})


def _handler_update_global_table(self: DynamoHandler) -> ActionResult:
    """UpdateGlobalTable: a new member must be an empty table; a removed one keeps its table."""
    with runtime.LOCK:
        account_id = self.current_account
        table = _legacy_table(account_id, self.body["GlobalTableName"])
        for update in self.body.get("ReplicaUpdates", []):
            if "Create" in update:
                region = update["Create"]["RegionName"]
                if region in table.regions:
                    raise _DynamoDBError("ReplicaAlreadyExistsException",
                                         f"Replica already exists in region {region}")
                member = _legacy_member(account_id, region, table.name)
                _join(table, table.regions[0], member)
            elif "Delete" in update:
                region = update["Delete"]["RegionName"]
                if region not in table.regions:
                    raise _DynamoDBError("ReplicaNotFoundException",
                                         f"Replica not found in region {region}")
                _forget_replica(account_id, table.name, region)
        return ActionResult({"GlobalTableDescription": _legacy_description(table)})


def _handler_list_global_tables(self: DynamoHandler) -> ActionResult:
    region = self.body.get("RegionName")
    start = self.body.get("ExclusiveStartGlobalTableName")
    limit = int(self.body.get("Limit") or 100)
    with runtime.LOCK:
        tables = sorted(
            (t for (account, _), t in _state.tables.items()
             if account == self.current_account and t.version == LEGACY_VERSION
             and (region is None or region in t.regions)),
            key=lambda t: t.name,
        )
        if start:
            tables = [t for t in tables if t.name > start]
        page = tables[:limit]
        response: dict[str, Any] = {"GlobalTables": [
            {"GlobalTableName": t.name,
             "ReplicationGroup": [{"RegionName": r} for r in t.regions]}
            for t in page
        ]}
        if len(tables) > limit:
            response["LastEvaluatedGlobalTableName"] = page[-1].name
        return ActionResult(response)


# -- Installation and the component ----------------------------------------------------------


def install() -> None:
    """Patch moto's DynamoDB in this process. Safe to call more than once."""
    global _installed
    if _installed:
        return
    _installed = True
    patches = {
        "table_put_item": (Table, "put_item", _table_put_item),
        "table_delete_item": (Table, "delete_item", _table_delete_item),
        "table_describe": (Table, "describe", _table_describe),
        "backend_update_item": (DynamoDBBackend, "update_item", _backend_update_item),
        "backend_transact_write_items": (
            DynamoDBBackend, "transact_write_items", _backend_transact_write_items),
        "backend_delete_table": (DynamoDBBackend, "delete_table", _backend_delete_table),
        "handler_update_table": (DynamoHandler, "update_table", _handler_update_table),
        "stream_record_init": (StreamRecord, "__init__", _stream_record_init),
    }
    for key, (cls, attribute, replacement) in patches.items():
        _original[key] = getattr(cls, attribute)
        setattr(cls, attribute, replacement)
    DynamoHandler.create_global_table = _handler_create_global_table
    DynamoHandler.describe_global_table = _handler_describe_global_table
    DynamoHandler.update_global_table = _handler_update_global_table
    DynamoHandler.list_global_tables = _handler_list_global_tables


class Replicator:
    """The background part: applies queued changes once their lag has passed."""

    name = "replication"
    IDLE_WAIT_SECONDS = 1.0

    def __init__(self, rt: runtime.Runtime) -> None:
        self.runtime = rt
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        with runtime.LOCK:
            _state.lag_seconds = rt.config.replication_lag_seconds

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="replication", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        _state.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Forget every global table and pending change (moto's tables are gone too)."""
        with runtime.LOCK:
            _state.clear()

    def _run(self) -> None:
        while not self._stopping.is_set():
            _state.wakeup.clear()
            try:
                wait = deliver_due()
            except Exception:  # keep replicating whatever one change did
                log.exception("replication pass failed")
                wait = self.IDLE_WAIT_SECONDS
            _state.wakeup.wait(self.IDLE_WAIT_SECONDS if wait is None else wait)

    def status(self) -> dict[str, Any]:
        with runtime.LOCK:
            tables = [
                {"account_id": t.account_id, "table_name": t.name, "version": t.version,
                 "regions": list(t.regions)}
                for t in _state.tables.values()
            ]
            waiting = len(_state.queue)
            return {
                "replication_lag_seconds": _state.lag_seconds,
                "global_tables": tables,
                "pending": waiting,
                "caught_up": waiting == 0,
                "replicated": _state.replicated,
                "superseded": _state.superseded,
            }
