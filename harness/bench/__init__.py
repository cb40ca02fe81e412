"""The side-by-side benchmark: legacy and refactored, alternately, in identical worlds under a latency model.

Each pair runs legacy then refactored in fresh worlds (world building is timed apart), so both see the same machine
load at nearly the same moment; the speed-up is reported pair by pair. Alongside the wall times it reports the
critical-path lower bound under the latency model (what even a fully parallel sync that makes the same calls must
wait for), each implementation as a multiple of that bound, the AWS calls each makes and each one's peak memory.

The bound counts latency only, while every simulated run also spends CPU time (botocore building clients and
requests, moto answering them) that one interpreter lock serialises. So the benchmark also reports where the time
goes: the process CPU time of each run and the part of it the fakes spent answering (work a real service does on its
own machines); and it measures each implementation's **latency slope**: one more run of each in the same world with
every latency multiplied by :data:`~harness.bench.measurement.SLOPE_SCALE`, and ``(wall at that scale - median wall)
/ (scale - 1)``, the wall time each unit of the latency model adds. The bound is the slope of an ideal sync (its CPU
time does not grow with latency), so the slope is the number to hold against it. A second bound keeps accounts one
after another, as the design prescribes ("Account queries: Sequential") and legacy's raise points require.

Modules: :mod:`~harness.bench.worlds` (the four benchmark worlds and the critical-path bounds),
:mod:`~harness.bench.measurement` (one timed run, alternating pairs, the scaled run, peak memory),
:mod:`~harness.bench.table` (the Markdown tables the README quotes), :mod:`~harness.bench.machine` (the machine
block of ``bench.json``), :mod:`~harness.bench.chart` (``bench.svg``), :mod:`~harness.bench.runner` (a whole
benchmark into ``bench.json``, ``bench.md`` and ``bench.svg``, reporting each measured run unit),
:mod:`~harness.bench.compare` (two ``bench.json`` files side by side) and :mod:`~harness.bench.command`
(``python -m harness bench``, ``bench --compare A B``). Nothing is imported here, so the CLI can declare the
command's arguments without loading moto.
"""
