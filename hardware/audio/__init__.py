"""Sound in and out of the booth and the wall: the interface (`api`), the take logic
shared by real and simulated microphones (`blocks`), PortAudio (`portaudio`) and the
simulations (`simulated`). A station's composition root picks real or simulated.
"""
