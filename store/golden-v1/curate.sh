#!/bin/sh
echo curate
