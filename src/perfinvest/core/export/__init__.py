"""What the exports read and the families and documents they write (pure)."""
