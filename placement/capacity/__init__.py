"""Program leads' view of placement capacity: counts now and over time, targets, unmet need, what-if."""
