"""Manim scenes of the Attention Lectures course."""
