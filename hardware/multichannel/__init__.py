"""The memorial's multichannel sound card: the interface and mixer (`api`), PortAudio
(`portaudio`) and the simulation (`simulated`). The memorial's composition root picks one.
"""
