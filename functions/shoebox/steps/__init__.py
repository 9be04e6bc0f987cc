"""Lambda steps of the process-photo state machine: one module, one handler each.

Each handler parses the state (small JSON, never image bytes), calls pure logic and returns the state
extended with its own fields, which the ASL passes on (OutputPath $.Payload).
"""
