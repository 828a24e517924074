"""Sandboxes that run a prepared job folder: the agent, the kernel and the student's code."""
