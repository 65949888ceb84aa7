#!/bin/sh
echo "building $1"
