"""With the heap kept, a process that allocates and frees large arrays in rounds stops
faulting their pages back in every round. Each case runs in a process of its own: the
setting lasts for the life of a process."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from stswatch.heap_tuning import keep_freed_heap

# Three 4 MB arrays alive at once, then all freed: more free memory at the top of the heap
# than glibc's default keeps, so by default it is handed back and faulted in again.
_ROUNDS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    if sys.argv[1] == "kept":
        from stswatch.heap_tuning import keep_freed_heap
        assert keep_freed_heap()

    def one_round() -> float:
        arrays = [np.ones(512 * 1024) for _ in range(3)]
        return sum(float(a[-1]) for a in arrays)

    one_round()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        one_round()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
    """
)


def faults_per_round(mode: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_kept_heap_is_reused_where_the_default_faults_it_back_in() -> None:
    default = faults_per_round("default")
    kept = faults_per_round("kept")
    # 12 MB a round is 3,072 pages: by default a third or more come back as fresh pages.
    assert default > 500
    assert kept < 10


@pytest.mark.skipif(platform.libc_ver()[0] == "glibc", reason="for allocators other than glibc")
def test_elsewhere_nothing_is_changed() -> None:
    assert keep_freed_heap() is False
