"""CPython's cyclic garbage collector, run less often while a stream of records is processed.

Every decoded position is a tuple, and CPython's cyclic collector tracks tuples. With its
default thresholds (700, 10, 10) it makes a young collection for every 700 net new container
objects and a full one, which walks every object in the process (the detector's state, the
decoder's caches, the libraries' modules), after every 100 young ones. stswatch makes almost
no reference cycles: `stswatch detect` of the benchmarks' `large` scenario (2.4 million lines)
ran 5,841 young, 531 middle and 48 full collections, and they found 3,925 objects in all;
everything else is freed by reference counting the moment it is dropped.

So while records stream, the objects that exist when it starts (modules, reference data,
settings) are frozen out of collections (`gc.freeze`) and a young collection waits for
10,000 new objects. Measured on this machine (notes of issue 7): `stswatch detect` of
`large` 27.8 and 28.5 -> 26.4 and 25.8 CPU-s; the decode and shard stages of a worker
without Kafka, 650,000 lines, 11.2-11.7 -> 10.3 s. Cycles are still collected, only later;
the memory they hold meanwhile is what 10,000 small objects take at most.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation threshold (new objects), then how many young collections make a middle
# one and how many middle ones make a full one (CPython's defaults: 700, 10, 10).
STREAMING_THRESHOLDS = (10_000, 10, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Freeze what exists now and collect less often inside the block; restore afterwards."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*STREAMING_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
