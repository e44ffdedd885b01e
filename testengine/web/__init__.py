"""The web application: thin handlers that parse, call one service and choose a template."""
