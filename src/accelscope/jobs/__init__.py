"""What a user runs: each job is one function from a config to a result (no printing).

``predict`` (a workload on catalog hardware), ``explore`` (measure locally, predict the
catalog, rank), ``calibrate`` (fit a device's model to its stored measurements),
``simulate``/``dse`` (systolic arrays), ``fpga`` (an FPGA design). The CLI renders their
results with :mod:`accelscope.report`.
"""
