"""The Empyrean (bootstrap) component: the registry of this cloud's services, their
states and events (``/services/Empyrean``), and the cloud properties
(``/services/Properties``, ``euctl``)."""
