"""`worker.memory`: glibc takes the allocator settings; the processes' caps fit the container."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from worker.cgroups import memory_limit
from worker.memory import PARENT_BASE_BYTES, budget, check_budget
from worker.settings import MIB, Settings


def test_glibc_takes_the_allocator_settings_in_a_fresh_process() -> None:
    code = "from worker.memory import tune_malloc; print(tune_malloc())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True", out.stderr


@pytest.mark.parametrize(
    ("written", "limit"),
    [("2147483648\n", 2 * 1024 * MIB), ("max\n", None), ("9223372036854771712\n", None), ("", None)],
)
def test_the_container_limit_is_read_from_cgroup_v2_or_v1(tmp_path: Path, written: str, limit: int | None) -> None:
    v2, v1 = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    v2.write_text(written)
    assert memory_limit((v2, v1)) == limit
    v2.unlink()
    v1.write_text(written.replace("max", "9223372036854771712"))
    assert memory_limit((v2, v1)) == limit
    v1.unlink()
    assert memory_limit((v2, v1)) is None  # no cgroup file: no limit known


def test_caps_that_exceed_the_limit_refuse_to_start_with_one_line() -> None:
    settings = Settings(extract_workers=2, extract_spares=4, extract_memory_bytes=512 * MIB)
    need = budget(settings)
    assert need.parent == PARENT_BASE_BYTES + 128 * MIB and need.children == 6 * 512 * MIB
    check_budget(settings, need.parent + need.children)  # fits exactly
    check_budget(settings, None)  # no limit: nothing to check
    with pytest.raises(ValueError, match=r"^memory limit 3072 MiB is below .* = 3488 MiB") as refused:
        check_budget(settings, 3072 * MIB)
    assert "\n" not in str(refused.value)
    no_spares = Settings(extract_workers=2, extract_slow_s=0, extract_memory_bytes=512 * MIB)
    check_budget(no_spares, 1440 * MIB)  # spares off: two processes only


def test_uncapped_extraction_processes_inside_a_limit_refuse_to_start() -> None:
    with pytest.raises(ValueError, match="INGEST_EXTRACT_MEMORY_BYTES=0 leaves 6 extraction processes uncapped"):
        check_budget(Settings(extract_workers=2, extract_spares=4, extract_memory_bytes=0), 8192 * MIB)
