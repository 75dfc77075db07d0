package webapi

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
)

// thumbnailSide is the side of the square thumbnail Dataverse keeps of an image column's value.
const thumbnailSide = 144

// maxImagePixels bounds the pixels of an image the emulator decodes, so a small file that
// declares huge dimensions cannot make it allocate gigabytes.
const maxImagePixels = 50_000_000

// thumbnail decodes a PNG, JPEG or GIF image and returns its thumbnail, encoded in the same
// format (GIF as PNG), and the image's MIME type. As Dataverse does, an image with a side longer
// than 144 pixels is cropped on its centre to a square and scaled to 144x144; a smaller one is
// cropped to a square of its shorter side. ok is false for data that is not such an image.
func thumbnail(data []byte) (thumb []byte, mimeType string, ok bool) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, "", false
	}
	var img image.Image
	switch format {
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(data))
	default:
		return nil, "", false
	}
	if err != nil {
		return nil, "", false
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	out := side
	if max(b.Dx(), b.Dy()) > thumbnailSide {
		out = thumbnailSide
	}
	dst := scale(img, crop, out)
	var buf bytes.Buffer
	switch format {
	case "jpeg":
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90})
		mimeType = "image/jpeg"
	case "gif":
		err = png.Encode(&buf, dst)
		mimeType = "image/gif"
	default:
		err = png.Encode(&buf, dst)
		mimeType = "image/png"
	}
	if err != nil {
		return nil, "", false
	}
	return buf.Bytes(), mimeType, true
}

// scale averages the pixels of the square src area r into an out x out image (each output pixel
// the mean of the source pixels it covers, or the nearest one when enlarging is not needed).
func scale(src image.Image, r image.Rectangle, out int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, out, out))
	side := r.Dx()
	for y := range out {
		y0 := r.Min.Y + y*side/out
		y1 := max(r.Min.Y+(y+1)*side/out, y0+1)
		for x := range out {
			x0 := r.Min.X + x*side/out
			x1 := max(r.Min.X+(x+1)*side/out, x0+1)
			var rs, gs, bs, as, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					c := color.NRGBAModel.Convert(src.At(sx, sy)).(color.NRGBA)
					rs, gs, bs, as = rs+uint64(c.R), gs+uint64(c.G), bs+uint64(c.B), as+uint64(c.A)
					n++
				}
			}
			dst.SetNRGBA(x, y, color.NRGBA{R: uint8(rs / n), G: uint8(gs / n), B: uint8(bs / n), A: uint8(as / n)})
		}
	}
	return dst
}
