"""Time -> energy and money: power models and cloud prices applied to Estimates.

``with_costs(estimate, spec)`` fills an Estimate's energy and cost fields:

* Power: ``idle + (TDP - idle) * utilisation``, utilisation being the fraction of the step
  the device is busy (``gpu_busy_s / step_time_s``), capped at TDP. When the idle power is
  unknown it is taken as ``IDLE_FRACTION_OF_TDP`` of the TDP, a stated assumption
  (datacenter GPUs idle at roughly 15-30% of their TDP); the Estimate's notes say so. With no
  TDP there is no energy figure: ``None`` with the reason in ``energy_method``.
* Money: the cheapest dated, non-stale cloud offering, per device-hour
  (``CloudOffering.usd_per_device_hour``), with its date.

``estimate(profile, spec, calibration)`` is ``models.predict`` followed by ``with_costs``.
"""

from __future__ import annotations

from dataclasses import replace

from accelscope.errors import AccelscopeError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.estimate import Estimate
from accelscope.models.predict import Calibrated, predict
from accelscope.workload.profile import Profile

IDLE_FRACTION_OF_TDP = 0.25


def _value(fig) -> float | None:
    v = getattr(fig, "value", None)
    return float(v) if isinstance(v, (int, float)) else None


def with_costs(e: Estimate, spec: HardwareSpec) -> Estimate:
    notes = list(e.notes)
    changes: dict = {}
    tdp, idle = _value(spec.tdp_w), _value(spec.idle_power_w)
    if tdp:
        if idle is None:
            idle = IDLE_FRACTION_OF_TDP * tdp
            notes.append(f"idle power unknown: assumed {IDLE_FRACTION_OF_TDP:.0%} of TDP")
        util = min(1.0, e.gpu_busy_s / e.step_time_s) if e.step_time_s else 0.0
        power = min(tdp, idle + (tdp - idle) * util)
        changes.update(power_w=power, energy_j_per_step=power * e.step_time_s,
                       energy_method="model: idle + (TDP - idle) * utilisation")
    else:
        changes.update(energy_method="unavailable: TDP unknown")
    offer = spec.cheapest_offering()
    if offer is not None:
        usd_h = offer.usd_per_device_hour
        changes.update(usd_per_hour=usd_h,
                       usd_per_million_samples=usd_h / 3600 * e.step_time_s / e.samples_per_step * 1e6,
                       offering=f"{offer.provider} {offer.instance} ({offer.pricing})", price_date=offer.date)
    params = dict(e.parameters, idle_fraction_of_tdp=IDLE_FRACTION_OF_TDP)
    return replace(e, notes=tuple(notes), parameters=params, **changes)


def estimate(profile: Profile, spec: HardwareSpec, calibration: Calibrated | None = None) -> Estimate:
    """Time, memory, energy and cost of ``profile`` on ``spec``.

    FPGAs are estimated as the fastest FINN-style dataflow design (8-bit weights and
    activations) that fits the device, or a DPU-style overlay when no dataflow design fits
    (:func:`accelscope.models.fpga.fpga_estimate`);
    everything else by the per-op roofline (:func:`accelscope.models.predict.predict`).
    """
    if spec.kind == "fpga":
        from accelscope.models.fpga import fpga_estimate
        from accelscope.models.predict import PredictionError

        e = fpga_estimate(profile, spec, workload_name=profile.model)
        if e.fits_in_memory is False:
            # Too big for one stage per layer: a DPU-style overlay processor runs any size.
            try:
                overlay = fpga_estimate(profile, spec, style="overlay", workload_name=profile.model)
            except AccelscopeError:
                overlay = None
            if overlay is not None and overlay.fits_in_memory is not False:
                e = overlay
        if e.fits_in_memory is None:
            raise PredictionError(
                f"{spec.name}: its resource counts are not in the catalog, so no design can be folded "
                f"to fit it; `accelscope fpga {profile.model} --device {spec.name} --fold FILE` sizes one by hand")
        return with_costs(e, spec)
    return with_costs(predict(profile, spec, calibration), spec)
