"""Real throwaway servers and helpers for tests, drills and the demo."""
