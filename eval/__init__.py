"""Evaluation: question sets (`eval.sets`), metrics (`eval.metrics`) and the data they ship with.

Uses only the public `qa` API and its types, the same way a user would.
"""
