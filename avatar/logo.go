package avatar

import "context"

// A logo (the MSP's, shown in the header) fits inside LogoWidth × LogoHeight with its proportions kept:
// a wide word mark must not be cut to a square like a profile picture. It is never enlarged.
const (
	LogoWidth  = 320
	LogoHeight = 96
)

// Logo checks the picture's header as Process does (format, pixels, memory of the decode and the
// resampling), waits for a decode slot, and returns the logo as PNG with nothing of the upload but its
// pixels.
func (p *Processor) Logo(ctx context.Context, data []byte) ([]byte, error) {
	h, err := inspect(data)
	if err != nil {
		return nil, err
	}
	w, ht := logoSize(h.w, h.h)
	// The resampler keeps one float64 RGBA value per destination column and source row.
	if h.cost-resampleBytes(min(h.w, h.h))+int64(w)*int64(h.h)*32 > MaxDecodeBytes {
		return nil, ErrTooBig
	}
	release, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	img, err := decode(h.format, data)
	if err != nil {
		return nil, err
	}
	return encode(scale(img, img.Bounds(), w, ht))
}

// logoSize fits w × h inside the logo box, keeping the proportions, never enlarging.
func logoSize(w, h int) (int, int) {
	if w <= LogoWidth && h <= LogoHeight {
		return w, h
	}
	if w*LogoHeight > h*LogoWidth { // wider than the box
		return LogoWidth, max(1, h*LogoWidth/w)
	}
	return max(1, w*LogoHeight/h), LogoHeight
}
