"""Delivery: the queue of (notification, subscriber, channel) deliveries and the transports that send them.

Reading order: base.py (messages, outcomes, the Transport protocol) -> queue.py (plan, claim, record)
-> outbox.py / smtp.py (transports) -> messages.py (message builders) -> worker.py (`deliver`).
"""
