"""How fast: pure performance models from (Profile, hardware spec) to an Estimate.

``predict(profile, spec)`` picks the model through the registry in :mod:`.predict`: the
per-op roofline, the systolic engine or the FPGA models.
"""

from accelscope.models.estimate import Estimate, OpEstimate
from accelscope.models.predict import MODELS, PredictionError, auto_precision, model_for, naive_step_time, predict
from accelscope.models.roofline_model import Calibrated

__all__ = ["Calibrated", "Estimate", "MODELS", "OpEstimate", "PredictionError", "auto_precision", "model_for",
           "naive_step_time", "predict"]
