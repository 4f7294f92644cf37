"""The rule-execution engine: matching, fan-out, attempts, retries and connectors.

Pure parts (`outcomes`, `retry`, `matching`, `webhook` request building, `connectors`) take plain
values and return plain values; the stateful dispatcher drives them against the store.
"""
