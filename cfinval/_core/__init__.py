"""The sans-IO core: every decision, no network, clock, process or terminal."""
