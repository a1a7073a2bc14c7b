"""report/read"""
