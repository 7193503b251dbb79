"""The queue on a Redis stream with a consumer group.

XADD enqueues, XREADGROUP hands new entries to one consumer of the group, XACK acknowledges,
and XAUTOCLAIM moves entries that a consumer claimed but did not ack within the lease (it died)
to the consumer asking; the pending entries list's delivery count (XPENDING) is then the
message's `attempts`. Acked entries are deleted, so the stream's length is the backlog, and a
hash beside the stream maps each queued key to its entry, so a key is enqueued once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import redis

from recoverops.queue.base import DEFAULT_LEASE, Message, QueueDepth

DEFAULT_GROUP = "recoverops"
# Seconds to connect and to wait for any one reply. A hung Redis must fail a request (503) or a
# claim (retried by the detector's loop) quickly instead of blocking it; every command here is
# O(batch), so a healthy server answers well inside this.
CONNECT_TIMEOUT = 2.0
SOCKET_TIMEOUT = 3.0

# Enqueue only when the key is not queued yet; one script, so two producers cannot both add it.
_ENQUEUE = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[1], '*', 'key', ARGV[1], 'payload', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], id)
return id
"""

# Ack, delete and forget the key of each (id, key) pair, atomically. The key is only forgotten
# if it still points to this entry, so an ack never unblocks a newer message with the same key.
_ACK = """
local acked = 0
for i = 2, #ARGV, 2 do
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
  redis.call('XDEL', KEYS[1], ARGV[i])
  if redis.call('HGET', KEYS[2], ARGV[i + 1]) == ARGV[i] then
    redis.call('HDEL', KEYS[2], ARGV[i + 1])
  end
end
return acked
"""


class RedisStreamQueue:
    """A `Queue` over the Redis stream `stream`, consumed by the group `group`.

    `client` must decode responses and speak RESP2 (the default), as `from_url` makes it.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str,
        group: str = DEFAULT_GROUP,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.keys = f"{stream}:keys"
        self._lease_ms = max(1, int(lease.total_seconds() * 1000))
        self._enqueue = client.register_script(_ENQUEUE)
        self._ack = client.register_script(_ACK)
        self._create_group()

    @classmethod
    def from_url(
        cls, url: str, *, stream: str, lease: timedelta = DEFAULT_LEASE
    ) -> RedisStreamQueue:
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
        )
        return cls(client, stream=stream, lease=lease)

    def enqueue(self, key: str, payload: Mapping[str, Any]) -> bool:
        added = self._enqueue(keys=[self.stream, self.keys], args=[key, json.dumps(dict(payload))])
        return added is not None

    def claim(self, consumer: str, *, limit: int = 10) -> list[Message]:
        messages = self._reclaim(consumer, limit=limit)
        if len(messages) < limit:
            answer = self.client.xreadgroup(
                self.group, consumer, {self.stream: ">"}, count=limit - len(messages)
            )
            messages.extend(_messages(_only_stream_entries(answer)))
        return messages

    def ack(self, messages: Iterable[Message]) -> int:
        pairs = [part for message in messages for part in (message.receipt, message.key)]
        if not pairs:
            return 0
        return int(self._ack(keys=[self.stream, self.keys], args=[self.group, *pairs]))

    def depth(self) -> QueueDepth:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xlen(self.stream)
            pipe.xpending(self.stream, self.group)
            length, pending = pipe.execute()
        in_flight = int(pending["pending"])
        return QueueDepth(waiting=int(length) - in_flight, in_flight=in_flight)

    def _reclaim(self, consumer: str, *, limit: int) -> list[Message]:
        # XAUTOCLAIM examines a bounded slice of the pending list per call; follow its cursor
        # until the list is exhausted or enough entries were taken over.
        messages: list[Message] = []
        cursor = "0-0"
        while len(messages) < limit:
            cursor, entries, _deleted = self.client.xautoclaim(
                self.stream,
                self.group,
                consumer,
                min_idle_time=self._lease_ms,
                start_id=cursor,
                count=limit - len(messages),
            )
            messages.extend(_messages(entries))
            if cursor == "0-0":
                break
        return self._with_attempts(messages)

    def _with_attempts(self, messages: list[Message]) -> list[Message]:
        """`messages` with their delivery counts, which XAUTOCLAIM's reply leaves out."""
        if not messages:
            return messages
        with self.client.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.xpending_range(self.stream, self.group, message.receipt, message.receipt, 1)
            pending = pipe.execute()
        return [
            replace(message, attempts=int(found[0]["times_delivered"]) if found else 1)
            for message, found in zip(messages, pending, strict=True)
        ]

    def _create_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):  # the group exists: another process made it
                raise


# The driver types stream replies loosely (bytes or str, lists or maps by protocol). Our client
# speaks RESP2 and decodes responses: entries are (id, {field: value}) pairs of str.


def _only_stream_entries(answer: Any) -> list[Any]:
    """The entries of an XREADGROUP answer for one stream: [[name, entries]], or [] if none."""
    return [entry for _name, entries in answer or [] for entry in entries]


def _messages(entries: Iterable[Any]) -> list[Message]:
    return [
        Message(receipt=str(entry_id), key=fields["key"], payload=json.loads(fields["payload"]))
        for entry_id, fields in entries
    ]
