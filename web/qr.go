package web

import (
	"encoding/base64"

	qrcode "github.com/skip2/go-qrcode"
)

// qrDataURL is a PNG QR code of text as a data: URL (allowed by the CSP's img-src), or ""
// when text is too long for a code.
func qrDataURL(text string) string {
	png, err := qrcode.Encode(text, qrcode.Medium, 256)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}
