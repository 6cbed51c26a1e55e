package avatar

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"
)

// A logo keeps its proportions inside the box and is never enlarged.
func TestLogoSizeKeepsProportions(t *testing.T) {
	for _, c := range []struct{ w, h, ww, wh int }{
		{800, 200, 320, 80}, {100, 400, 24, 96}, {200, 50, 200, 50}, {320, 96, 320, 96}, {3200, 96, 320, 9}, {10000, 1, 320, 1},
	} {
		if w, h := logoSize(c.w, c.h); w != c.ww || h != c.wh {
			t.Errorf("logoSize(%d, %d) = %d, %d; want %d, %d", c.w, c.h, w, h, c.ww, c.wh)
		}
	}
}

// A wide word mark comes back as a PNG in its box, not cut to a square; what is no picture is refused.
func TestLogoResamplesWithoutCutting(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 800, 200))
	for x := range 800 {
		for y := range 200 {
			c := color.NRGBA{R: 200, A: 255}
			if x >= 400 {
				c = color.NRGBA{B: 200, A: 255}
			}
			src.Set(x, y, c)
		}
	}
	var in bytes.Buffer
	if err := png.Encode(&in, src); err != nil {
		t.Fatal(err)
	}
	p := New(1, time.Second)
	out, err := p.Logo(context.Background(), in.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 80 {
		t.Fatalf("logo is %v", b)
	}
	// Both halves are still there: nothing was cut off the sides.
	if r, _, _, _ := img.At(5, 40).RGBA(); r>>8 < 150 {
		t.Fatalf("left edge lost: %v", img.At(5, 40))
	}
	if _, _, b, _ := img.At(314, 40).RGBA(); b>>8 < 150 {
		t.Fatalf("right edge lost: %v", img.At(314, 40))
	}
	if _, err := p.Logo(context.Background(), []byte("RIFF....WEBP")); !errors.Is(err, ErrFormat) {
		t.Fatalf("not a picture: %v", err)
	}
}
