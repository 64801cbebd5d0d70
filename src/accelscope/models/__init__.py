"""How fast: pure performance models from (Profile, hardware spec) to an Estimate."""

from accelscope.models.estimate import Estimate, OpEstimate
from accelscope.models.predict import Calibrated, PredictionError, naive_step_time, predict

__all__ = ["Calibrated", "Estimate", "OpEstimate", "PredictionError", "naive_step_time", "predict"]
