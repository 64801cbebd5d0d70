"""Many devices: parallel layouts (``layout``), alpha-beta collectives on a two-level fabric
(``collectives``), one training iteration's terms and memory per device (``model``) and the
search over layouts (``search``)."""
