"""Youth referrals: who needs a placement, and their safety constraints."""
