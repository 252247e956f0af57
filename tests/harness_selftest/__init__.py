"""Tests of the test harness itself: if these fail, no GUI or audio test result means anything."""
