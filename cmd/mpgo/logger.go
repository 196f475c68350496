package main

import (
	"io"

	"github.com/sirupsen/logrus"
)

// newLogger is the logger of --log-level and --log-format (text or json),
// writing to w, shared by serve and relay.
func newLogger(w io.Writer, level, format string) (*logrus.Logger, error) {
	log := logrus.New()
	log.SetOutput(w)
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, usagef("bad --log-level %q", level)
	}
	log.SetLevel(lvl)
	switch format {
	case "text":
		log.SetFormatter(&logrus.TextFormatter{})
	case "json":
		log.SetFormatter(&logrus.JSONFormatter{})
	default:
		return nil, usagef("bad --log-format %q (text or json)", format)
	}
	return log, nil
}
