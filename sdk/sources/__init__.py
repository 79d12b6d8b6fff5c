"""Frame sources: turn a file, folder, glob, camera or stream URL into numbered frames.

A file is read in order, frame by frame; a live source is read on its own thread that
keeps only the newest frame, and reconnects when the stream drops.
"""
