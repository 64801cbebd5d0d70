"""Time -> energy, money and carbon: :func:`price` turns an Estimate into a :class:`Priced`."""

from accelscope.cost.price import IDLE_FRACTION_OF_TDP, Assumptions, Priced, price

__all__ = ["Assumptions", "IDLE_FRACTION_OF_TDP", "Priced", "price"]
