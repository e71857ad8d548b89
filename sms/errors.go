package sms

import (
	"errors"

	"switchboard/phone"
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func normalize(s string) (string, bool) { return phone.Normalize(s) }
