"""What the system says about itself: JSON log events and their names, metrics, trace
context, and the traces and log books read back from them."""
