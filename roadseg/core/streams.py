"""Streams of work items: read ahead in a thread, taken in batches."""
import queue
import threading

PREFETCH = 8          # items read ahead of the network


def background(iterable, depth=PREFETCH):
    """Yield the items of `iterable`, produced by a thread running up to `depth` ahead."""
    items, done = queue.Queue(maxsize=depth), object()

    def produce():
        try:
            for item in iterable:
                items.put(item)
        except BaseException as error:  # handed to the consumer, raised there
            items.put(error)
        items.put(done)
    threading.Thread(target=produce, daemon=True).start()
    while (item := items.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def batched(iterable, size):
    """Yield lists of up to `size` consecutive items."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
