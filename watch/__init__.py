"""Watch: the businesses behind the tickets (one business however each channel spells it), the early-warning rules
that need no history (prepaid-card flight, group complaints) and the alerts they raise to the duty contacts."""
from watch.credit_code import valid_credit_code
from watch.names import name_key

__all__ = ["name_key", "valid_credit_code"]
