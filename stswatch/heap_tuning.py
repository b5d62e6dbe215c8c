"""glibc's malloc, told to keep the memory a batch freed for the next batch.

The detector works on a tick at a time in numpy arrays: the proximity search of an
anchorage of 5,000 vessels makes candidate-pair arrays of about 90,000 entries (700 KB)
each. By default glibc hands large blocks back to the kernel: blocks from 128 KB up
(a threshold that grows to the largest block freed) are mapped and unmapped one by one, and
free memory at the top of the heap beyond twice that threshold is trimmed. The next tick
then faults the same pages back in, one 4 KB page at a time, and the kernel zeroes each.
Measured here (notes of issue 7, a 2-core virtual machine, where page faults are dear): the
proximity search of 5,000 vessels in 10 km made 557 page faults a call, 1.45 ms of system
time beside 5.9 ms of user time, and none with these settings; `cube_grid.spans` of 90,000
pairs took 850 us by default and 148 us with them.

So stswatch's long-running commands raise both limits: blocks up to `LARGEST_HEAP_BLOCK`
come from the heap, and up to `KEEP_FREED_BYTES` of freed memory stays with the process.
The cost is that much memory held after a peak, at most. Elsewhere than glibc (musl,
macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import platform

# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Blocks up to this size come from the heap, not from a mapping of their own (glibc's own
# ceiling for the threshold it adjusts by itself on 64-bit machines).
LARGEST_HEAP_BLOCK = 32 * 1024 * 1024
# Free memory at the top of the heap kept for reuse rather than returned to the kernel.
KEEP_FREED_BYTES = 128 * 1024 * 1024


def keep_freed_heap() -> bool:
    """Apply the settings to this process; whether the allocator took them."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success. Setting either limit also stops glibc adjusting the
    # mapping threshold by itself, so both are set.
    taken = mallopt(_M_MMAP_THRESHOLD, LARGEST_HEAP_BLOCK) == 1
    return mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES) == 1 and taken
