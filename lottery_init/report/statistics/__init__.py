"""report/statistics"""
