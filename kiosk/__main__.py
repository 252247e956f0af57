from kiosk.cli import main

# Guarded: a worker process started with "spawn" (the thumbnails' first build when other
# threads run) imports this module again, and must not run the command a second time.
if __name__ == "__main__":
    main()
