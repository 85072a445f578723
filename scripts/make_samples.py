"""Draw the sample images in samples/images (the project owns them; run to regenerate)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "samples" / "images"


def sunset() -> Image.Image:
    img = Image.new("RGB", (320, 240))
    d = ImageDraw.Draw(img)
    for y in range(150):
        d.line([(0, y), (320, y)], fill=(255, 120 + y // 3, 60 + y // 4))
    d.ellipse([120, 100, 200, 180], fill=(255, 220, 90))
    for y in range(150, 240):
        d.line([(0, y), (320, y)], fill=(20, 60 + (y - 150), 140))
    return img


def red_apple() -> Image.Image:
    img = Image.new("RGB", (240, 240), (250, 250, 245))
    d = ImageDraw.Draw(img)
    d.ellipse([50, 60, 190, 200], fill=(200, 20, 30))
    d.rectangle([116, 30, 124, 70], fill=(90, 60, 20))
    d.ellipse([124, 35, 170, 60], fill=(40, 150, 40))
    return img


def green_tree() -> Image.Image:
    img = Image.new("RGB", (240, 320), (170, 210, 250))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 270, 240, 320], fill=(70, 160, 60))
    d.rectangle([105, 200, 135, 280], fill=(100, 70, 40))
    d.polygon([(120, 40), (40, 220), (200, 220)], fill=(30, 120, 40))
    return img


def chessboard() -> Image.Image:
    img = Image.new("RGB", (256, 256))
    d = ImageDraw.Draw(img)
    for i in range(8):
        for j in range(8):
            colour = (240, 217, 181) if (i + j) % 2 == 0 else (181, 136, 99)
            d.rectangle([i * 32, j * 32, i * 32 + 31, j * 32 + 31], fill=colour)
    return img


def night_sky() -> Image.Image:
    img = Image.new("RGB", (320, 200), (10, 15, 40))
    d = ImageDraw.Draw(img)
    for k in range(60):
        x, y = (k * 97) % 320, (k * 53) % 200
        d.point((x, y), fill=(255, 255, 230))
    d.ellipse([230, 30, 280, 80], fill=(240, 240, 210))
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sunset().save(OUT / "sunset-over-the-sea.jpg", quality=90)
    red_apple().save(OUT / "red-apple.png")
    green_tree().save(OUT / "green-tree.webp", quality=90)
    chessboard().save(OUT / "chessboard.gif")
    night_sky().save(OUT / "night-sky-moon.png")
    print(f"wrote 5 images to {OUT}")


if __name__ == "__main__":
    main()
