#!/bin/sh
# flowpush.cgi - CGI wrapper for shared hosting: tells flowpush.fcgi where its config is and runs it as plain CGI.
#
# Copy to ~/public_html/cgi-bin/flowpush.cgi (mode 0755) and set FLOWPUSH_DIR
# to the folder holding flowpush.fcgi and flowpush.conf (CGI programs get no
# HOME, so the path is written out). flowpush.fcgi answers as CGI because
# fd 0 is the request body here, not a listening socket.
FLOWPUSH_DIR=/home/example/flowpush

FLOWPUSH_CONFIG="$FLOWPUSH_DIR/flowpush.conf"
export FLOWPUSH_CONFIG
exec "$FLOWPUSH_DIR/flowpush.fcgi"
