"""The measurements behind `benchmarks/run.py` (issue 7), one module each.

- `inputs`: simulated inputs, built once into the cache folder and reused.
- `decode`: `stswatch detect` against bare pyais decoding of the same file.
- `live`: stream workers and alert latency on an embedded tansu broker and Redis.
- `state`: detector memory and serialized state per tracked vessel; forgetting.
- `proximity`: `detectors.proximity.close_pairs` against a batch `cKDTree.query_pairs`.
- `common`: the machine, CPU clocks, the load sampler and the result table.
- `profiling`: py-spy attached to a running measurement, and a summary of its samples.
"""
