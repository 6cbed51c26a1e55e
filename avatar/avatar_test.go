package avatar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"sync"
	"testing"
	"time"

	"portier/testkit"
)

// testJPEG is a 300×200 JPEG, red on the left half and blue on the right, with an APP1 segment holding
// app1 spliced in after the start-of-image marker.
func testJPEG(t *testing.T, app1 []byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			c := color.RGBA{220, 20, 20, 255}
			if x >= 150 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(app1)+2))
	seg = append(seg, app1...)
	out := append([]byte{}, b[:2]...)
	out = append(out, seg...)
	out = append(out, b[2:]...)
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("spliced JPEG does not decode: %v", err)
	}
	return out
}

// exifBlock is an EXIF block (big-endian TIFF) with one entry, the orientation, followed by marker text.
func exifBlock(orientation uint16, marker string) []byte {
	b := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.BigEndian.PutUint16(b[6+8+2+8:], orientation)
	return append(b, marker...)
}

// bomb is the picture of the trust review (made once: compressing 305 MB of zeros takes a moment).
var bomb = sync.OnceValue(func() []byte { return testkit.BombPNG(16384, 2441) })

func process(t *testing.T, data []byte) ([]byte, error) {
	t.Helper()
	return New(1, time.Second).Process(context.Background(), data)
}

// measure runs f and returns the peak growth of the heap in use (sampled every millisecond) and the bytes
// allocated meanwhile (every allocation counts, collected or not).
func measure(f func()) (peak, alloc uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, total := ms.HeapInuse, ms.TotalAlloc
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				done <- top
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	top := <-done
	runtime.ReadMemStats(&ms)
	if top > base {
		peak = top - base
	}
	return peak, ms.TotalAlloc - total
}

func TestResultIsASquarePNGWithoutMetadata(t *testing.T) {
	const marker = "GPS-52.5200N-13.4050E-SECRET-MARKER"
	pic, err := process(t, testJPEG(t, exifBlock(1, marker)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(pic, []byte(marker)) || bytes.Contains(pic, []byte("Exif")) {
		t.Fatal("metadata survived")
	}
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != Size || b.Dy() != Size {
		t.Fatalf("%v", b)
	}
	// The centred square of the 300×200 picture is half red, half blue.
	if r, _, b, _ := img.At(20, 64).RGBA(); r>>8 < 180 || b>>8 > 70 {
		t.Fatalf("left is not red: %v", img.At(20, 64))
	}
	if r, _, b, _ := img.At(108, 64).RGBA(); b>>8 < 180 || r>>8 > 70 {
		t.Fatalf("right is not blue: %v", img.At(108, 64))
	}
}

func TestFollowsExifOrientation(t *testing.T) {
	// Orientation 6: the picture must be turned a quarter clockwise, so the red left half ends up on top.
	pic, err := process(t, testJPEG(t, exifBlock(6, "")))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, b, _ := img.At(64, 20).RGBA(); r>>8 < 180 || b>>8 > 70 {
		t.Fatalf("top is not red: %v", img.At(64, 20))
	}
	if r, _, b, _ := img.At(64, 108).RGBA(); b>>8 < 180 || r>>8 > 70 {
		t.Fatalf("bottom is not blue: %v", img.At(64, 108))
	}
	for o := uint16(1); o <= 8; o++ {
		if got := jpegOrientation(testJPEG(t, exifBlock(o, "x"))); got != int(o) {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	// Every turn and flip is a permutation: a marked pixel lands where the table says.
	src := image.NewRGBA(image.Rect(0, 0, 4, 4))
	src.SetRGBA(1, 0, color.RGBA{255, 0, 0, 255})
	for o, want := range map[int]image.Point{1: {1, 0}, 2: {2, 0}, 3: {2, 3}, 4: {1, 3}, 5: {0, 1}, 6: {3, 1}, 7: {3, 2}, 8: {0, 2}} {
		if orient(src, o).RGBAAt(want.X, want.Y).R != 255 {
			t.Errorf("orientation %d: marked pixel not at %v", o, want)
		}
	}
	// Garbage instead of EXIF is ignored, and so are segment lengths that point past the end.
	for _, junk := range [][]byte{[]byte("Exif\x00\x00"), []byte("Exif\x00\x00II\x2a\x00\xff\xff\xff\xff"), []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff")} {
		if got := jpegOrientation(testJPEG(t, junk)); got != 1 {
			t.Errorf("junk %q: %d", junk, got)
		}
	}
	if got := jpegOrientation([]byte("\xff\xd8\xff\xe1\xff\xffExif\x00\x00MM")); got != 1 {
		t.Errorf("truncated segment: %d", got)
	}
}

func TestThumbnail(t *testing.T) {
	// Enlarging a tiny picture gives the full size with its colour.
	small := image.NewNRGBA(image.Rect(0, 0, 3, 5))
	for i := range small.Pix {
		small.Pix[i] = []uint8{10, 200, 30, 255}[i%4]
	}
	out := thumbnail(small, 128)
	if out.Bounds().Dx() != 128 || out.Bounds().Dy() != 128 {
		t.Fatalf("%v", out.Bounds())
	}
	for _, p := range []image.Point{{0, 0}, {64, 64}, {127, 127}} {
		if c := out.RGBAAt(p.X, p.Y); c != (color.RGBA{10, 200, 30, 255}) {
			t.Fatalf("colour at %v: %v", p, c)
		}
	}
	// A fine checkerboard averages to grey (a resampler that only picks pixels would give black or
	// white); transparent pixels do not darken their neighbours.
	cb := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			if (x+y)%2 == 0 {
				cb.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
			} else {
				cb.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	for _, n := range []int{256, 1000} {
		big := cb
		if n != 256 {
			big = image.NewNRGBA(image.Rect(0, 0, n, n))
			for y := range n {
				for x := range n {
					big.Set(x, y, cb.At(x%256, y%256))
				}
			}
		}
		if c := thumbnail(big, 128).RGBAAt(40, 40); c.R < 120 || c.R > 135 || c.A != 255 {
			t.Fatalf("checkerboard of %d: %v", n, c)
		}
	}
	half := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	half.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	half.SetNRGBA(1, 0, color.NRGBA{0, 0, 0, 0})
	half.SetNRGBA(0, 1, color.NRGBA{255, 0, 0, 255})
	half.SetNRGBA(1, 1, color.NRGBA{0, 0, 0, 0})
	c := color.NRGBAModel.Convert(thumbnail(half, 1).RGBAAt(0, 0)).(color.NRGBA)
	if c.R < 250 || c.A < 126 || c.A > 129 {
		t.Fatalf("half transparent %v", c)
	}
}

// 16-bit and CMYK pictures are narrowed in place to 8 bits: same pixels, no second copy.
func TestNarrowInPlace(t *testing.T) {
	n64 := image.NewNRGBA64(image.Rect(0, 0, 3, 2))
	n64.SetNRGBA64(2, 1, color.NRGBA64{0x1234, 0x5678, 0x9abc, 0xdef0})
	n := narrow(n64).(*image.NRGBA)
	if &n.Pix[0] != &n64.Pix[0] || n.NRGBAAt(2, 1) != (color.NRGBA{0x12, 0x56, 0x9a, 0xde}) || n.NRGBAAt(0, 0) != (color.NRGBA{}) {
		t.Fatalf("NRGBA64: %v", n.NRGBAAt(2, 1))
	}
	r64 := image.NewRGBA64(image.Rect(0, 0, 2, 2))
	r64.SetRGBA64(1, 1, color.RGBA64{0x1000, 0x2000, 0x3000, 0xffff})
	if r := narrow(r64).(*image.RGBA); r.RGBAAt(1, 1) != (color.RGBA{0x10, 0x20, 0x30, 0xff}) {
		t.Fatalf("RGBA64: %v", r.RGBAAt(1, 1))
	}
	g16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	g16.SetGray16(1, 0, color.Gray16{0xabcd})
	if g := narrow(g16).(*image.Gray); g.GrayAt(1, 0).Y != 0xab || g.GrayAt(0, 1).Y != 0 {
		t.Fatalf("Gray16: %v", g.GrayAt(1, 0))
	}
	cmyk := image.NewCMYK(image.Rect(0, 0, 2, 1))
	cmyk.SetCMYK(1, 0, color.CMYK{0, 255, 255, 0})
	if r := narrow(cmyk).(*image.RGBA); r.RGBAAt(1, 0) != (color.RGBA{255, 0, 0, 255}) || r.RGBAAt(0, 0) != (color.RGBA{255, 255, 255, 255}) {
		t.Fatalf("CMYK: %v %v", r.RGBAAt(1, 0), r.RGBAAt(0, 0))
	}
}

// The picture of the trust review: 300 KB of PNG whose header stays within the pixel limit but that
// decodes to 320 MB. It is refused from its header, before any decoding: memory does not move.
func TestDecompressionBombIsRefusedFromItsHeader(t *testing.T) {
	bomb := bomb()
	if len(bomb) > MaxBytes || 16384*2441 > MaxPixels {
		t.Fatalf("the bomb (%d bytes) would be refused for its file size or pixel count alone", len(bomb))
	}
	var err error
	start := time.Now()
	peak, alloc := measure(func() { _, err = process(t, bomb) })
	took := time.Since(start)
	t.Logf("bomb: %d KB file, %d MB decoded; refused after %v with heap peak +%.1f MB, %.1f MB allocated",
		len(bomb)>>10, 16384*2441*8>>20, took.Round(time.Microsecond), float64(peak)/(1<<20), float64(alloc)/(1<<20))
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("err %v", err)
	}
	if peak > 4<<20 || alloc > 4<<20 {
		t.Fatalf("refusing took memory: peak +%d, allocated %d", peak, alloc)
	}
}

// The largest picture that is accepted stays within MaxDecodeBytes: every byte allocated while it is made
// into a profile picture is counted, garbage included.
func TestLargestAcceptedPictureStaysWithinTheBound(t *testing.T) {
	const side = 2600 // 16-bit RGBA: 54 MB decoded, plus the resampler's 10.6 MB
	pic := testkit.BombPNG(side, side)
	h, err := inspect(pic)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	peak, alloc := measure(func() { out, err = process(t, pic) })
	t.Logf("%d×%d 16-bit RGBA: estimate %.1f MB, heap peak +%.1f MB, %.1f MB allocated (bound %d MB)",
		side, side, float64(h.cost)/(1<<20), float64(peak)/(1<<20), float64(alloc)/(1<<20), MaxDecodeBytes>>20)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(out)); err != nil || img.Bounds().Dx() != Size {
		t.Fatalf("result: %v", err)
	}
	// The estimate is what the decode really takes (within 4 MB for the encoder and small buffers), and the
	// estimate is held to the bound.
	if alloc > uint64(h.cost)+4<<20 || peak > uint64(h.cost)+4<<20 || h.cost > MaxDecodeBytes {
		t.Fatalf("estimate %d, peak %d, allocated %d", h.cost, peak, alloc)
	}
	// One step larger is refused.
	if _, err := inspect(testkit.BombPNG(side+100, side+100)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("%d: %v", side+100, err)
	}
}

// JPEG headers: the decoder's memory follows the sampling, and a progressive file keeps 4 more bytes
// per sample; four components add a CMYK copy. Headers are patched into a real file's frame header.
func TestJPEGCostFromTheFrameHeader(t *testing.T) {
	base := testJPEG(t, exifBlock(1, ""))
	patch := func(sof byte, w, h int) []byte {
		b := bytes.Clone(base)
		done := false
		for i := 2; i+9 < len(b) && !done; i++ {
			if b[i] == 0xFF && b[i+1] == 0xC0 {
				b[i+1] = sof
				binary.BigEndian.PutUint16(b[i+5:], uint16(h))
				binary.BigEndian.PutUint16(b[i+7:], uint16(w))
				done = true
			}
		}
		if !done {
			t.Fatal("no frame header")
		}
		return b
	}
	// Go's encoder writes 4:2:0: 1.5 bytes per pixel, rows padded to whole 16-pixel blocks.
	if h, err := inspect(patch(0xC0, 4000, 3000)); err != nil || h.cost != 4000*3008*3/2+resampleBytes(3000) {
		t.Fatalf("baseline 12 MP: %d %v", h.cost, err)
	}
	if _, err := inspect(patch(0xC2, 4000, 3000)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("progressive 12 MP (90 MB): %v", err)
	}
	if _, err := inspect(patch(0xC2, 2000, 2000)); err != nil {
		t.Fatalf("progressive 4 MP: %v", err)
	}
	if _, err := inspect(patch(0xC0, 16000, 16000)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("256 MP: %v", err)
	}
}

// Only PNG, JPEG and GIF are read, by their own decoders; WebP, BMP, TIFF and text are refused, as are
// broken files.
func TestOnlyPNGJPEGAndGIF(t *testing.T) {
	for name, data := range map[string][]byte{
		"webp":       []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"),
		"bmp":        []byte("BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"),
		"tiff":       []byte("II\x2a\x00\x08\x00\x00\x00"),
		"text":       []byte("Dear diary, this is not a picture.\n"),
		"empty":      nil,
		"broken gif": []byte("GIF89a\x10\x00\x10\x00 truncated"),
		"broken png": testkit.BombPNG(40, 40)[:60],
	} {
		if _, err := process(t, data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A GIF with thousands of frames costs its first frame only.
func TestManyFrameGIFDecodesTheFirstFrameOnly(t *testing.T) {
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := range 2000 {
		f := image.NewPaletted(image.Rect(0, 0, 64, 64), pal)
		f.Pix[i%len(f.Pix)] = 1
		g.Image, g.Delay = append(g.Image, f), append(g.Delay, 0)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	var err error
	peak, alloc := measure(func() { _, err = process(t, buf.Bytes()) })
	t.Logf("%d frames, %d KB: heap peak +%.1f MB, %.1f MB allocated", len(g.Image), buf.Len()>>10, float64(peak)/(1<<20), float64(alloc)/(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if alloc > 8<<20 {
		t.Fatalf("allocated %d", alloc)
	}
}

// At most the Processor's number of decodes run at once; a picture waits for a slot at most its wait,
// then gets ErrBusy. A picture refused from its header never waits.
func TestDecodesAreCapped(t *testing.T) {
	var small bytes.Buffer
	png.Encode(&small, image.NewGray(image.Rect(0, 0, 40, 40)))
	ctx := context.Background()

	p := New(2, 50*time.Millisecond)
	r1, _ := p.Acquire(ctx)
	r2, _ := p.Acquire(ctx)
	start := time.Now()
	if _, err := p.Process(ctx, small.Bytes()); !errors.Is(err, ErrBusy) || time.Since(start) > 2*time.Second {
		t.Fatalf("with every slot taken: %v after %v", err, time.Since(start))
	}
	if _, err := p.Process(ctx, bomb()); !errors.Is(err, ErrTooBig) {
		t.Fatalf("bomb while busy: %v", err)
	}
	r1()
	if _, err := p.Process(ctx, small.Bytes()); err != nil {
		t.Fatalf("with a slot free: %v", err)
	}

	// A waiting picture gets the slot that is given back.
	p = New(1, time.Minute)
	r3, _ := p.Acquire(ctx)
	done := make(chan error, 1)
	go func() { _, err := p.Process(ctx, small.Bytes()); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("decoded while the only slot was taken: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	r3()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r2()

	// Parallel pictures all get through a small Processor, none at once beyond its slots.
	p = New(2, time.Minute)
	errs := make(chan error, 16)
	for range 16 {
		go func() { _, err := p.Process(ctx, small.Bytes()); errs <- err }()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(p.slots) != 0 {
		t.Fatalf("%d slots still taken", len(p.slots))
	}
}
