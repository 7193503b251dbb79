"""The work queue: Redis Streams when RECOVEROPS_REDIS_URL is set, else the store's outbox."""

from recoverops.queue.base import DEFAULT_LEASE, Message, Queue, QueueDepth, event_message
from recoverops.queue.factory import open_queue
from recoverops.queue.outbox import OutboxQueue
from recoverops.queue.redis_streams import RedisStreamQueue

__all__ = [
    "DEFAULT_LEASE",
    "Message",
    "OutboxQueue",
    "Queue",
    "QueueDepth",
    "RedisStreamQueue",
    "event_message",
    "open_queue",
]
