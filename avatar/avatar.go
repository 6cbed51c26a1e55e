// Package avatar turns an uploaded picture into a profile picture: a square PNG of Size pixels that keeps
// nothing of the upload but its pixels (no EXIF, GPS position, camera or comments, no bytes of the file).
//
// Uploads come from anyone with an account, so every picture is judged by its header before it is
// decoded: a file of a few hundred kilobytes can declare a picture that takes hundreds of megabytes once
// decoded (a 16-bit RGBA PNG of 16384×2441 pixels compresses to 300 KB and decodes to 320 MB). The memory
// a decode would take is computed from the header (width × height × bytes per pixel of the colour model,
// the JPEG decoder's coefficient buffers for progressive files, the resampler's buffer) and bounded by
// MaxDecodeBytes, and a Processor lets only a few decodes run at once.
package avatar

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"time"

	xdraw "golang.org/x/image/draw"
)

const (
	// MaxBytes is the largest upload taken (under the 3 MB body limit of multipart requests).
	MaxBytes = 2 << 20
	// Size is the width and height of the result.
	Size = 128
	// MaxSide and MaxPixels refuse absurd shapes before anything else is looked at.
	MaxSide   = 16384
	MaxPixels = 40_000_000
	// MaxDecodeBytes bounds the memory one picture may take while it is made into a profile picture: the
	// decoded picture plus the resampler's buffer. 64 MiB takes an 8-megapixel progressive JPEG or a
	// 12-megapixel baseline one, more than a 2 MB file holds in practice.
	MaxDecodeBytes = 64 << 20
)

// Reasons a picture is refused.
var (
	ErrFormat = errors.New("avatar: not a PNG, JPEG or GIF picture that can be read")
	ErrTooBig = errors.New("avatar: the picture has too many pixels")
	ErrBusy   = errors.New("avatar: too many pictures are being processed")
)

// Processor makes profile pictures, at most a few at a time.
type Processor struct {
	slots chan struct{}
	wait  time.Duration
}

// New returns a Processor that decodes at most concurrent pictures at once (peak memory is at most
// concurrent × MaxDecodeBytes) and lets a picture wait at most wait for its turn before ErrBusy.
func New(concurrent int, wait time.Duration) *Processor {
	return &Processor{slots: make(chan struct{}, max(1, concurrent)), wait: wait}
}

// Acquire takes one decode slot, waiting at most the Processor's wait; release gives it back. Process
// calls it; a caller that must keep decodes out for a while can hold a slot itself.
func (p *Processor) Acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return func() { <-p.slots }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Process checks the picture's header, waits for a decode slot, and returns the profile picture as PNG.
// Errors are ErrFormat, ErrTooBig, ErrBusy or the context's.
func (p *Processor) Process(ctx context.Context, data []byte) ([]byte, error) {
	h, err := inspect(data)
	if err != nil {
		return nil, err
	}
	release, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return h.make(data)
}

// header is what the file says about itself, checked.
type header struct {
	format string
	cost   int64 // bytes the decode and the resampling take
	w, h   int
}

// sniff names the format by its magic bytes. Only these three decoders are ever called, whatever other
// decoders some package registered with image.RegisterFormat (WebP, BMP, TIFF ... are refused).
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("\xff\xd8")):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif"
	}
	return ""
}

// inspect reads only the header and refuses what cannot or must not be decoded.
func inspect(data []byte) (header, error) {
	h := header{format: sniff(data)}
	var cfg image.Config
	var err error
	switch h.format {
	case "png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case "gif":
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	default:
		return h, ErrFormat
	}
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return h, ErrFormat
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || cfg.Width*cfg.Height > MaxPixels {
		return h, ErrTooBig
	}
	decoded, ok := decodedBytes(h.format, data, cfg)
	if !ok {
		return h, ErrFormat
	}
	h.w, h.h = cfg.Width, cfg.Height
	h.cost = decoded + resampleBytes(min(cfg.Width, cfg.Height))
	if h.cost > MaxDecodeBytes {
		return h, ErrTooBig
	}
	return h, nil
}

// resampleBytes is the resampler's buffer for a square of side pixels: one float64 RGBA value per
// destination column and source row (golang.org/x/image/draw's kernel scaler).
func resampleBytes(side int) int64 { return int64(Size) * int64(side) * 32 }

// decodedBytes is the memory the standard decoders take for this picture.
func decodedBytes(format string, data []byte, cfg image.Config) (int64, bool) {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "gif":
		// Only the first frame is decoded, as a paletted picture no larger than the logical screen (the
		// decoder refuses frames that are larger).
		return px, true
	case "jpeg":
		return jpegBytes(data, cfg.Width, cfg.Height)
	}
	var bpp int64
	switch cfg.ColorModel {
	case color.GrayModel:
		bpp = 1
	case color.Gray16Model:
		bpp = 2
	case color.RGBAModel, color.NRGBAModel:
		bpp = 4
	case color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); !ok {
			return 0, false
		}
		bpp = 1
	}
	// An interlaced PNG is decoded pass by pass into pictures of their own, merged into the result.
	if len(data) > 28 && data[28] == 1 {
		bpp *= 2
	}
	return px * bpp, true
}

// jpegBytes reads the frame header: every component's samples at its own sampling, padded to whole
// blocks as the decoder allocates them, four more bytes per sample for the coefficients a progressive
// file keeps until its last scan, and a CMYK copy for four-component files.
func jpegBytes(b []byte, w, h int) (int64, bool) {
	var cost int64
	found := false
	jpegSegments(b, func(marker byte, seg []byte) bool {
		if marker < 0xC0 || marker > 0xCF || marker == 0xC4 || marker == 0xC8 || marker == 0xCC {
			return true
		}
		if len(seg) < 6 || seg[5] == 0 || len(seg) < 6+3*int(seg[5]) {
			return false
		}
		n := int(seg[5])
		hmax, vmax := 1, 1
		for i := range n {
			hv := seg[6+3*i+1]
			hmax, vmax = max(hmax, int(hv>>4)), max(vmax, int(hv&15))
		}
		mxx, myy := int64((w+8*hmax-1)/(8*hmax)), int64((h+8*vmax-1)/(8*vmax))
		var samples int64
		for i := range n {
			hv := seg[6+3*i+1]
			samples += mxx * 8 * int64(max(1, int(hv>>4))) * myy * 8 * int64(max(1, int(hv&15)))
		}
		perSample := int64(1)
		switch marker {
		case 0xC2, 0xC6, 0xCA, 0xCE: // progressive
			perSample = 5
		}
		cost = samples * perSample
		if n == 4 {
			cost += 4 * int64(w) * int64(h)
		}
		found = true
		return false
	})
	return cost, found
}

// make decodes, cuts the centred square, resamples it to Size and encodes it as PNG.
func (h header) make(data []byte) ([]byte, error) {
	img, err := decode(h.format, data)
	if err != nil {
		return nil, err
	}
	thumb := thumbnail(img, Size)
	if h.format == "jpeg" {
		// Phones store pictures as the sensor saw them and note the way up in EXIF; apply it, since the
		// EXIF block itself is not kept.
		thumb = orient(thumb, jpegOrientation(data))
	}
	return encode(thumb)
}

// decode runs the decoder of the sniffed format (no other decoder is ever called) and narrows the
// picture for the resampler.
func decode(format string, data []byte) (image.Image, error) {
	var img image.Image
	var err error
	switch format {
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(data))
	default:
		return nil, ErrFormat
	}
	if err != nil {
		return nil, ErrFormat
	}
	return narrow(img), nil
}

// encode writes the result as PNG: nothing of the upload but its pixels.
func encode(img image.Image) ([]byte, error) {
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// thumbnail cuts the largest centred square out of src and resamples it to size×size.
func thumbnail(src image.Image, size int) *image.RGBA {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	sq := image.Rect(0, 0, side, side).Add(image.Pt(b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2))
	return scale(src, sq, size, size)
}

// scale resamples the part r of src to w×h with Catmull-Rom (golang.org/x/image/draw widens the kernel
// when shrinking, so every source pixel counts: a true average, no aliasing). It works on premultiplied
// alpha, so transparent pixels do not darken their neighbours.
func scale(src image.Image, r image.Rectangle, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, r, xdraw.Src, nil)
	return dst
}

// narrow turns 16-bit and CMYK pictures into their 8-bit counterparts in place: each pixel's new bytes
// land at or before its old ones, so no second copy of the picture is made. The resampler then takes its
// fast path; on the generic one it would box every pixel it reads into an interface value, hundreds of
// megabytes of garbage for a large picture.
func narrow(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.NRGBA64:
		if m.Rect.Min != (image.Point{}) {
			return img
		}
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := &image.NRGBA{Pix: m.Pix[:4*w*h], Stride: 4 * w, Rect: m.Rect}
		to8x4(out.Pix, m.Pix, w, h, m.Stride)
		return out
	case *image.RGBA64:
		if m.Rect.Min != (image.Point{}) {
			return img
		}
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := &image.RGBA{Pix: m.Pix[:4*w*h], Stride: 4 * w, Rect: m.Rect}
		to8x4(out.Pix, m.Pix, w, h, m.Stride)
		return out
	case *image.Gray16:
		if m.Rect.Min != (image.Point{}) {
			return img
		}
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := &image.Gray{Pix: m.Pix[:w*h], Stride: w, Rect: m.Rect}
		for y := range h {
			for x := range w {
				out.Pix[y*w+x] = m.Pix[y*m.Stride+2*x]
			}
		}
		return out
	case *image.CMYK:
		if m.Rect.Min != (image.Point{}) {
			return img
		}
		w, h := m.Rect.Dx(), m.Rect.Dy()
		out := &image.RGBA{Pix: m.Pix[:4*w*h], Stride: 4 * w, Rect: m.Rect}
		for y := range h {
			for x := range w {
				s := m.Pix[y*m.Stride+4*x:]
				r, g, b := color.CMYKToRGB(s[0], s[1], s[2], s[3])
				d := out.Pix[y*out.Stride+4*x:]
				d[0], d[1], d[2], d[3] = r, g, b, 0xff
			}
		}
		return out
	}
	return img
}

// to8x4 keeps the high byte of each 16-bit channel of four-channel pixels (big-endian, as the decoders
// store them). dst and src may share memory: dst's offsets never pass src's.
func to8x4(dst, src []byte, w, h, stride int) {
	for y := range h {
		for x := range w {
			s := src[y*stride+8*x:]
			r, g, b, a := s[0], s[2], s[4], s[6]
			d := dst[y*4*w+4*x:]
			d[0], d[1], d[2], d[3] = r, g, b, a
		}
	}
}
