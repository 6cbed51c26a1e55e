package avatar

import (
	"encoding/binary"
	"image"
)

// jpegSegments calls f with each marker segment before the image data (its marker and its payload after
// the length), until f returns false. Every offset is checked: the bytes come from the upload.
func jpegSegments(b []byte, f func(marker byte, seg []byte) bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return
		}
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no more metadata
			return
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return
		}
		if !f(marker, b[i+4:i+2+n]) {
			return
		}
		i += 2 + n
	}
}

// jpegOrientation reads the EXIF orientation (1–8) of a JPEG; 1 (as stored) when there is none or the
// EXIF block cannot be read.
func jpegOrientation(b []byte) int {
	o := 1
	jpegSegments(b, func(marker byte, seg []byte) bool {
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			o = tiffOrientation(seg[6:])
			return false
		}
		return true
	})
	return o
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var u16 func([]byte) uint16
	var u32 func([]byte) uint32
	switch string(t[:2]) {
	case "II":
		u16, u32 = binary.LittleEndian.Uint16, binary.LittleEndian.Uint32
	case "MM":
		u16, u32 = binary.BigEndian.Uint16, binary.BigEndian.Uint32
	default:
		return 1
	}
	if u16(t[2:]) != 42 {
		return 1
	}
	ifd := u32(t[4:])
	if uint64(ifd)+2 > uint64(len(t)) {
		return 1
	}
	count := int(u16(t[ifd:]))
	for k := range count {
		e := int(ifd) + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if u16(t[e:]) == 0x0112 && u16(t[e+2:]) == 3 { // Orientation, SHORT
			if o := int(u16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// orient turns a square picture the way EXIF orientation o says it should be shown. The avatar's square is
// cut from the centre, which every one of these turns and flips maps onto itself, so turning the small
// result is the same as turning the upload first.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	n := src.Bounds().Dx()
	dst := image.NewRGBA(src.Bounds())
	for y := range n {
		for x := range n {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = n-1-x, y
			case 3: // upside down
				sx, sy = n-1-x, n-1-y
			case 4: // mirrored upside down
				sx, sy = x, n-1-y
			case 5: // mirrored along the main diagonal
				sx, sy = y, x
			case 6: // needs a quarter turn clockwise
				sx, sy = y, n-1-x
			case 7: // mirrored along the other diagonal
				sx, sy = n-1-y, n-1-x
			case 8: // needs a quarter turn anticlockwise
				sx, sy = n-1-y, x
			}
			dst.SetRGBA(x, y, src.RGBAAt(sx, sy))
		}
	}
	return dst
}
