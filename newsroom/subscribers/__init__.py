"""Subscribers, their subscriptions, the consent log, the suppression list and the delivery queue tables."""
