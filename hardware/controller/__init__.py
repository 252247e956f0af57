"""The booth controller: a small board with the big button, the lights and the presence
sensor, on a USB serial line. See hardware/PROTOCOL.md."""
