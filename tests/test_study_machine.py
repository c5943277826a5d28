"""Machine information and the memory-bandwidth probe."""

from __future__ import annotations

from fastgd.study.machine import cpu_count, cpu_model, machine_info, measure_read_bandwidth, package_version


def test_bandwidth_probe_is_positive_and_plausible():
    gbytes_per_s = measure_read_bandwidth(8 * 2**20, repeats=2)
    assert 0.05 < gbytes_per_s < 10_000


def test_machine_info_has_the_schema_keys():
    info = machine_info(12.5)
    assert info["bandwidth_gbytes_per_s"] == 12.5
    assert set(info) >= {
        "cpu_model",
        "cores",
        "numba_threads_available",
        "bandwidth_gbytes_per_s",
        "python",
        "numpy",
        "numba",
        "pandas",
        "torch",
        "sklearn",
        "platform",
    }
    assert info["cores"] == cpu_count() >= 1
    assert isinstance(cpu_model(), str) and cpu_model()


def test_package_version_of_missing_package_is_none():
    assert package_version("surely-not-an-installed-distribution") is None
    assert package_version("numpy")
